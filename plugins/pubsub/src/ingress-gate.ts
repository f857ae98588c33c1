// The transports' door: open while the kernel runs, closed at the Ingress phase of a stop (or
// of a reload of this generation). Once closed, produce and new subscriptions are refused with
// the retriable STOPPING, and push streams are told to stop sending; what they delivered and
// was not acknowledged stays unacknowledged, so it is delivered again later.
import { PubsubError } from './errors.ts'

export class IngressGate {
  #open = true
  readonly #onClose = new Set<() => void>()
  readonly #closed = new AbortController()

  /** Aborted when the gate closes: long polls answer what they have instead of holding the stop. */
  get signal(): AbortSignal {
    return this.#closed.signal
  }

  get open(): boolean {
    return this.#open
  }

  /** Throws STOPPING once closed; `what` names the refused request. */
  check(what: string): void {
    if (!this.#open) throw new PubsubError('STOPPING', `the broker is stopping and takes no ${what}`)
  }

  /** Runs `stop` when the gate closes (at once when already closed); returns the unsubscribe. */
  onClose(stop: () => void): () => void {
    if (!this.#open) {
      stop()
      return () => {}
    }
    this.#onClose.add(stop)
    return () => this.#onClose.delete(stop)
  }

  close(): void {
    if (!this.#open) return
    this.#open = false
    this.#closed.abort()
    for (const stop of [...this.#onClose]) stop()
    this.#onClose.clear()
  }
}
