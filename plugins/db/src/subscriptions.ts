// The listens one opened database started: each handler guarded (a throwing listener is reported,
// the others still hear the notification), and all of them ended when that database closes.
import type { BackendListen, ListenOptions, NotificationHandler, Unlisten } from './database.ts'
import { DatabaseInputError } from './errors.ts'
import { checkChannel } from './identifiers.ts'

/** Told when a listener throws or rejects. */
export type ListenerErrorReport = (error: unknown, channel: string) => void

export class Subscriptions {
  readonly #listen: BackendListen
  readonly #report: ListenerErrorReport
  readonly #open = new Set<Unlisten>()

  constructor(listen: BackendListen, report: ListenerErrorReport) {
    this.#listen = listen
    this.#report = report
  }

  async listen(channel: string, fn: NotificationHandler, options: ListenOptions = {}): Promise<Unlisten> {
    checkChannel(channel)
    if (typeof fn !== 'function') throw new DatabaseInputError(`listen(${channel}): the handler must be a function`)
    const { onReconnect } = options
    if (onReconnect !== undefined && typeof onReconnect !== 'function') throw new DatabaseInputError(`listen(${channel}): onReconnect must be a function`)
    const stop = await this.#listen(channel, (payload) => this.#guard(channel, () => fn(payload)), onReconnect && (() => this.#guard(channel, onReconnect)))
    let done = false
    const unlisten: Unlisten = async () => {
      if (done) return
      done = true
      this.#open.delete(unlisten)
      await stop()
    }
    this.#open.add(unlisten)
    return unlisten
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#open].map((unlisten) => unlisten()))
  }

  #guard(channel: string, call: () => unknown): void {
    try {
      const result = call()
      if (result instanceof Promise) result.catch((error: unknown) => this.#report(error, channel))
    } catch (error) {
      this.#report(error, channel)
    }
  }
}
