// Reading an order: from the cache, else from the database (one query per uid however many ask), then cached.
import { toCached, type CachedOrder, type OrderCache } from './order-cache.ts'
import type { OrderStore } from './order-store.ts'
import { SingleFlight } from './single-flight.ts'

export interface Read {
  order: CachedOrder | undefined
  /** Served from memory without a query. */
  hit: boolean
}

export class OrderReader {
  readonly #cache: OrderCache
  readonly #store: Pick<OrderStore, 'get'>
  readonly #loads = new SingleFlight<string, CachedOrder | undefined>()
  hits = 0
  misses = 0

  constructor(cache: OrderCache, store: Pick<OrderStore, 'get'>) {
    this.#cache = cache
    this.#store = store
  }

  /** Sync on a hit, so a cached answer costs no promise. */
  cached(uid: string): CachedOrder | undefined {
    const order = this.#cache.get(uid)
    if (order) this.hits++
    return order
  }

  async read(uid: string): Promise<Read> {
    const cached = this.cached(uid)
    if (cached) return { order: cached, hit: true }
    this.misses++
    const order = await this.#loads.run(uid, async () => {
      const stored = await this.#store.get(uid)
      if (!stored) return undefined
      const loaded = toCached(stored)
      this.#cache.set(loaded)
      return loaded
    })
    return { order, hit: false }
  }

  get coalesced(): number {
    return this.#loads.shared
  }
}
