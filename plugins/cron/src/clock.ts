// The scheduler's view of time: a clock and one-shot timers, injectable so tests run on virtual time.

export type TimerHandle = unknown

export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Calls fn once after ms (at most MAX_TIMER_MS). */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
}

/** The largest delay setTimeout honours (2^31-1 ms, about 24.8 days); longer waits are chunked. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

interface VirtualTimer {
  id: number
  at: number
  fn: () => void
}

/** Lets pending promise callbacks (and the ones they schedule) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Virtual time for tests: nothing happens until advance()/advanceTo()/next() is awaited; timers
 * then fire in order, each at its due time (plus `lateness`, to model a busy event loop), with
 * pending promise callbacks run in between.
 */
export class VirtualClock implements Clock {
  #time: number
  #seq = 0
  #timers: VirtualTimer[] = []
  /** Extra delay added to every timer firing, in ms. */
  lateness: number | (() => number) = 0

  constructor(start: number | Date = 0) {
    this.#time = typeof start === 'number' ? start : start.getTime()
  }

  now(): number {
    return this.#time
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    if (!(ms <= MAX_TIMER_MS)) throw new RangeError(`timer delay ${ms} ms exceeds ${MAX_TIMER_MS} ms`)
    const extra = typeof this.lateness === 'function' ? this.lateness() : this.lateness
    const timer = { id: ++this.#seq, at: this.#time + Math.max(0, ms) + extra, fn }
    this.#timers.push(timer)
    return timer.id
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle)
  }

  /** Number of armed timers. */
  get pending(): number {
    return this.#timers.length
  }

  /** Due time of the earliest armed timer. */
  get nextAt(): number | undefined {
    return this.#earliest()?.at
  }

  /** Moves time forward by ms, firing every timer that falls due. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#time + ms)
  }

  async advanceTo(target: number | Date): Promise<void> {
    const end = typeof target === 'number' ? target : target.getTime()
    await settle()
    for (;;) {
      const timer = this.#earliest()
      if (!timer || timer.at > end) break
      this.#timers = this.#timers.filter((t) => t !== timer)
      this.#time = Math.max(this.#time, timer.at)
      timer.fn()
      await settle()
    }
    this.#time = Math.max(this.#time, end)
    await settle()
  }

  /** Jumps to the earliest timer and fires it (and any due at the same time). */
  async next(): Promise<void> {
    const timer = this.#earliest()
    if (timer) await this.advanceTo(timer.at)
  }

  #earliest(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined
    for (const t of this.#timers) if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t
    return best
  }
}
