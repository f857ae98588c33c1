// One load per key at a time: callers asking for a key already being loaded share that load,
// so a miss storm for one uid is one query. Nothing is held across the I/O but the promise.
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>()

  /** Callers that shared a load instead of starting one. */
  shared = 0

  run(key: K, load: () => Promise<V>): Promise<V> {
    const running = this.#inFlight.get(key)
    if (running) {
      this.shared++
      return running
    }
    const started = load().finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, started)
    return started
  }
}
