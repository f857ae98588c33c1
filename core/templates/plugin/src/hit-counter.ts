// The domain: plain TypeScript with no kernel imports, so it is tested with plain calls.
export class HitCounter {
  #hits = 0

  /** Counts one hit and returns the total so far. */
  hit(): number {
    return ++this.#hits
  }

  get total(): number {
    return this.#hits
  }
}
