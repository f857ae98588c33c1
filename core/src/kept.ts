// Resources that outlive a generation (a database pool, an embedded store, a broker's logs):
// opened by the first generation that keeps them, handed to each next one, and closed once the
// last generation holding them has stopped. Per kernel, so two kernels in one process never share.

interface Kept {
  value: Promise<unknown>
  holders: Set<object>
  /** Called with the value `open` gave; the entry erases its type, the id ties the two together. */
  close: (value: unknown) => unknown
}

export class KeptResources {
  readonly #kept = new Map<string, Kept>()

  /** The resource under `id`, opened now when no generation holds it; `holder` holds it until `release`. */
  async acquire<T>(id: string, holder: object, open: () => T | Promise<T>, close: (value: T) => unknown): Promise<{ value: T; reused: boolean }> {
    let kept = this.#kept.get(id)
    const reused = kept !== undefined
    if (!kept) {
      const entry: Kept = { value: Promise.resolve().then(open), holders: new Set(), close: close as (value: unknown) => unknown }
      this.#kept.set(id, entry)
      // A resource that failed to open is not kept: the next generation tries again.
      entry.value.catch(() => this.#kept.get(id) === entry && this.#kept.delete(id))
      kept = entry
    }
    kept.holders.add(holder)
    try {
      return { value: (await kept.value) as T, reused }
    } catch (error) {
      kept.holders.delete(holder)
      throw error
    }
  }

  /** `holder` lets go; the last one to do so closes the resource. */
  async release(id: string, holder: object): Promise<void> {
    const kept = this.#kept.get(id)
    if (!kept || !kept.holders.delete(holder) || kept.holders.size > 0) return
    this.#kept.delete(id)
    await kept.close(await kept.value)
  }

  /** How many generations hold `id` (for tests and the plugin table). */
  holders(id: string): number {
    return this.#kept.get(id)?.holders.size ?? 0
  }
}
