// Delayed appends (a retry that waits before it goes back to the tail of its topic). A delayed
// record is appended at once to the internal topic `__delay.<ms>ms`, so it is stored like any
// record (and survives a restart with file storage); a mover per delay topic appends it to its
// target when due. One topic per delay keeps each one in due order, as RabbitMQ's TTL queues do.
import type { Broker } from './broker.ts'
import type { ProduceRecord } from './record.ts'

const TARGET = 'x-pubsub-delay-target'
const DUE = 'x-pubsub-delay-due'
export const DELAY_PREFIX = '__delay.'
const OFFSETS_GROUP = '__delay'

export class DelayedAppends {
  readonly #broker: Broker
  readonly #movers = new Map<string, Promise<void>>()
  readonly #stop = new AbortController()

  constructor(broker: Broker) {
    this.#broker = broker
  }

  /** Appends `records` to `target` after `delayMs` (at once when 0). Resolves once they are stored. */
  async schedule(target: string, records: ProduceRecord[], delayMs: number): Promise<void> {
    if (delayMs <= 0) {
      await this.#broker.produce(target, records)
      return
    }
    this.#broker.topic(target)
    const topic = `${DELAY_PREFIX}${delayMs}ms`
    if (!this.#broker.hasTopic(topic)) this.#broker.createTopic(topic, { partitions: 1 })
    const due = String(Date.now() + delayMs)
    await this.#broker.produce(
      topic,
      records.map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers, [TARGET]: target, [DUE]: due }, partition: 0 })),
    )
    this.#start(topic)
  }

  /** After a restart: movers for every delay topic found. */
  resume(): void {
    for (const { name } of this.#broker.topics()) if (name.startsWith(DELAY_PREFIX)) this.#start(name)
  }

  stop(): void {
    this.#stop.abort()
  }

  #start(topic: string): void {
    if (this.#movers.has(topic) || this.#stop.signal.aborted) return
    this.#movers.set(
      topic,
      this.#move(topic).finally(() => this.#movers.delete(topic)),
    )
  }

  async #move(topic: string): Promise<void> {
    const signal = this.#stop.signal
    const offsets = this.#broker.group(OFFSETS_GROUP, { mode: 'exclusive' })
    const log = this.#broker.log(topic, 0)
    while (!signal.aborted) {
      let position = Math.max(offsets.committed(topic, 0) ?? 0, log.startOffset)
      const { records } = await this.#broker.fetch(topic, 0, position, { maxMessages: 100, maxWaitMs: 5000, signal })
      for (const record of records) {
        const due = Number(record.headers[DUE])
        if (due > Date.now()) await sleep(due - Date.now(), signal)
        if (signal.aborted) return
        const { [TARGET]: target, [DUE]: _due, ...headers } = record.headers
        try {
          if (target) await this.#broker.produce(target, [{ key: record.key, value: record.value, headers }])
        } catch {
          // The target refused (full, deleted): try again shortly, the record stays where it is.
          await sleep(1000, signal)
          break
        }
        position = record.offset + 1
        offsets.setCommitted(topic, 0, position)
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
