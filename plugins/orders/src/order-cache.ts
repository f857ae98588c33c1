// The orders kept in memory: at most `maxEntries` and `maxBytes` (of JSON text), evicting either
// the oldest by creation time (the seed's choice: the newest orders stay) or the least recently used.
// An order is kept as the bytes of its answer, so a hit is a lookup and a write, nothing encoded.
import type { StoredOrder } from './order-store.ts'

export const EVICTION = ['creation', 'lru'] as const
export type Eviction = (typeof EVICTION)[number]

export interface OrderCacheOptions {
  maxEntries: number
  maxBytes: number
  eviction: Eviction
}

/** An order as the cache hands it out: the UTF-8 bytes of its JSON and their length, ready to send. */
export interface CachedOrder {
  readonly uid: string
  readonly createdMs: number
  readonly body: Buffer
  /** `body.length` as the content-length header's text. */
  readonly contentLength: string
}

/** The cached form of a stored order (also for one read but not kept). */
export function toCached(order: StoredOrder): CachedOrder {
  const body = Buffer.from(order.json, 'utf8')
  return { uid: order.uid, createdMs: order.createdMs, body, contentLength: String(body.length) }
}

type Entry = CachedOrder

/** Older first: by creation time, then by uid, as the store's newest-first order reversed. */
const older = (a: Entry, b: Entry) => a.createdMs < b.createdMs || (a.createdMs === b.createdMs && a.uid < b.uid)

export class OrderCache {
  readonly #options: OrderCacheOptions
  // Map order is recency for LRU (a hit moves the entry to the end).
  readonly #entries = new Map<string, Entry>()
  // For 'creation': a min-heap on creation time; entries removed from the map are skipped when they surface.
  readonly #heap: Entry[] = []
  #bytes = 0
  #evictions = 0

  constructor(options: OrderCacheOptions) {
    this.#options = options
  }

  get size(): number {
    return this.#entries.size
  }

  get bytes(): number {
    return this.#bytes
  }

  get evictions(): number {
    return this.#evictions
  }

  get(uid: string): CachedOrder | undefined {
    const entry = this.#entries.get(uid)
    if (entry && this.#options.eviction === 'lru') {
      this.#entries.delete(uid)
      this.#entries.set(uid, entry)
    }
    return entry
  }

  has(uid: string): boolean {
    return this.#entries.has(uid)
  }

  /**
   * Keeps the order unless it would be the first to go (under 'creation', an order older than
   * every cached one when the cache is full) or is larger than the whole byte budget. Returns
   * whether it is cached now.
   */
  set(order: StoredOrder | CachedOrder): boolean {
    if (this.#options.maxEntries === 0) return false
    const entry: Entry = 'body' in order ? order : toCached(order)
    if (entry.body.length > this.#options.maxBytes) return false
    this.delete(order.uid)
    this.#entries.set(entry.uid, entry)
    this.#bytes += entry.body.length
    if (this.#options.eviction === 'creation') this.#push(entry)
    while (this.#entries.size > this.#options.maxEntries || this.#bytes > this.#options.maxBytes) this.#evictOne()
    return this.#entries.get(entry.uid) === entry
  }

  delete(uid: string): void {
    const entry = this.#entries.get(uid)
    if (!entry) return
    this.#entries.delete(uid)
    this.#bytes -= entry.body.length
  }

  /** Uids from the first to be evicted to the last. */
  keys(): string[] {
    if (this.#options.eviction === 'lru') return [...this.#entries.keys()]
    return [...this.#entries.values()].sort((a, b) => (older(a, b) ? -1 : older(b, a) ? 1 : 0)).map((e) => e.uid)
  }

  #evictOne(): void {
    const victim = this.#options.eviction === 'lru' ? this.#entries.values().next().value : this.#popOldest()
    if (!victim) return
    this.delete(victim.uid)
    this.#evictions++
  }

  #popOldest(): Entry | undefined {
    for (;;) {
      const top = this.#pop()
      if (!top) return undefined
      if (this.#entries.get(top.uid) === top) return top
    }
  }

  #push(entry: Entry): void {
    const heap = this.#heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!older(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
    // Stale entries (deleted or replaced) are dropped once they outnumber the live ones.
    if (heap.length > 2 * this.#entries.size + 64) this.#rebuild()
  }

  #pop(): Entry | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && older(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && older(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }

  #rebuild(): void {
    const live = [...this.#entries.values()]
    this.#heap.length = 0
    for (const entry of live) this.#push(entry)
  }
}
