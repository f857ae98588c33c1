// Reading an order: from the cache, else from the database (one query per uid however many ask), then cached.
import type { OrderCache } from './order-cache.ts'
import type { OrderStore, StoredOrder } from './order-store.ts'
import { SingleFlight } from './single-flight.ts'

export interface Read {
  order: StoredOrder | undefined
  /** Served from memory without a query. */
  hit: boolean
}

export class OrderReader {
  readonly #cache: OrderCache
  readonly #store: Pick<OrderStore, 'get'>
  readonly #loads = new SingleFlight<string, StoredOrder | undefined>()
  hits = 0
  misses = 0

  constructor(cache: OrderCache, store: Pick<OrderStore, 'get'>) {
    this.#cache = cache
    this.#store = store
  }

  /** Sync on a hit, so a cached answer costs no promise. */
  cached(uid: string): StoredOrder | undefined {
    const order = this.#cache.get(uid)
    if (order) this.hits++
    return order
  }

  async read(uid: string): Promise<Read> {
    const cached = this.cached(uid)
    if (cached) return { order: cached, hit: true }
    this.misses++
    const order = await this.#loads.run(uid, async () => {
      const loaded = await this.#store.get(uid)
      if (loaded) this.#cache.set(loaded)
      return loaded
    })
    return { order, hit: false }
  }

  get coalesced(): number {
    return this.#loads.shared
  }
}
