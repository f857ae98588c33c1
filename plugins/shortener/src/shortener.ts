// The short-link service: creation, lookup through an LRU cache, visit limits, deletion.
import { LinkGoneError, LinkNotFoundError, SlugSpaceExhaustedError, SlugTakenError } from './errors.ts'
import type { Link, LinkInput } from './link.ts'
import type { LinkStore } from './link-store.ts'
import { couldBeSlug, generateSlug, isReserved } from './slug.ts'
import type { VisitCounter } from './visit-counter.ts'

/** The operations used of an access-ordered map (the collections plugin's LinkedHashMap). */
export interface LruMap<K, V> {
  get(key: K): V | undefined
  put(key: K, value: V): unknown
  remove(key: K): unknown
  size(): number
}

/** A cached link; `link.visits` counts what is stored or being written, the counter holds the rest. */
export interface CachedLink {
  readonly link: Link
  readonly loadedAt: number
}

export interface ShortenerOptions {
  store: LinkStore
  counter: VisitCounter
  cache: LruMap<string, CachedLink>
  slugLength: number
  /** A cached link is re-read after this long, so a change made by another process shows up. */
  cacheTtlMs: number
  now?: () => number
}

const GENERATION_ATTEMPTS = 8

export class Shortener {
  readonly #store: LinkStore
  readonly #counter: VisitCounter
  readonly #cache: LruMap<string, CachedLink>
  readonly #slugLength: number
  readonly #ttl: number
  readonly #now: () => number
  readonly #loading = new Map<string, Promise<CachedLink | undefined>>()
  #deletions = 0

  constructor(options: ShortenerOptions) {
    this.#store = options.store
    this.#counter = options.counter
    this.#cache = options.cache
    this.#slugLength = options.slugLength
    this.#ttl = options.cacheTtlMs
    this.#now = options.now ?? Date.now
    // Visits handed to the database are now part of the stored count of cached links.
    this.#counter.onBatch = (counts, sign) => {
      for (const [slug, n] of counts) {
        const cached = this.#cache.get(slug)
        if (cached) cached.link.visits += sign * n
      }
    }
  }

  async create(input: LinkInput): Promise<Link> {
    if (input.slug !== undefined) return this.#store.insert({ ...input, slug: input.slug })
    // A collision is rare at 62^7; after a few, a longer slug makes the next one rarer still.
    for (let attempt = 0; attempt < GENERATION_ATTEMPTS; attempt++) {
      const slug = generateSlug(this.#slugLength + Math.floor(attempt / 3))
      if (isReserved(slug)) continue
      try {
        return await this.#store.insert({ ...input, slug })
      } catch (error) {
        if (!(error instanceof SlugTakenError)) throw error
      }
    }
    throw new SlugSpaceExhaustedError(`no free slug after ${GENERATION_ATTEMPTS} attempts`)
  }

  /** The link as stored, with every visit counted so far (stored and in memory). */
  async get(slug: string): Promise<Link> {
    const link = couldBeSlug(slug) ? await this.#readConsistent(slug) : undefined
    if (!link) throw new LinkNotFoundError(slug)
    return { ...link, visits: link.visits + this.#counter.pending(slug) }
  }

  async delete(slug: string): Promise<void> {
    if (!couldBeSlug(slug)) throw new LinkNotFoundError(slug)
    this.#deletions++
    const existed = await this.#store.delete(slug)
    this.#cache.remove(slug)
    this.#counter.forget(slug)
    if (!existed) throw new LinkNotFoundError(slug)
  }

  /**
   * Follows a link: checks expiry and the visit limit and counts the visit. From the cached
   * entry on, nothing awaits, so concurrent visits cannot both take the last allowed one.
   */
  async visit(slug: string): Promise<Link> {
    const link = this.visitCached(slug)
    if (link) return link
    const loaded = couldBeSlug(slug) ? await this.#load(slug) : undefined
    if (!loaded) throw new LinkNotFoundError(slug)
    return this.#admit(slug, loaded.link)
  }

  /**
   * `visit` without waiting, for the hot path: the link when its cache entry is fresh, or
   * undefined when it has to be read from the database first (then call `visit`).
   */
  visitCached(slug: string): Link | undefined {
    const cached = this.#cache.get(slug)
    if (!cached || this.#now() - cached.loadedAt > this.#ttl) return undefined
    return this.#admit(slug, cached.link)
  }

  #admit(slug: string, link: Link): Link {
    if (link.expiresAt !== null && Date.parse(link.expiresAt) <= this.#now()) throw new LinkGoneError(slug, 'expired')
    if (link.maxVisits !== null && link.visits + this.#counter.pending(slug) >= link.maxVisits) {
      throw new LinkGoneError(slug, 'visits exhausted')
    }
    this.#counter.record(slug)
    return link
  }

  /** Loads a link into the cache; concurrent misses of one slug share one query. */
  #load(slug: string): Promise<CachedLink | undefined> {
    let loading = this.#loading.get(slug)
    if (!loading) {
      const deletions = this.#deletions
      loading = this.#readConsistent(slug)
        .then((link) => {
          if (!link) return undefined
          const entry: CachedLink = { link, loadedAt: this.#now() }
          // A delete that ran meanwhile may have removed the row this read saw.
          if (deletions === this.#deletions) this.#cache.put(slug, entry)
          return entry
        })
        .finally(() => this.#loading.delete(slug))
      this.#loading.set(slug, loading)
    }
    return loading
  }

  /**
   * Reads a link while no flush runs, and again if one started meanwhile: then the stored
   * count read plus the counter's pending visits is exactly every visit, none counted twice.
   */
  async #readConsistent(slug: string): Promise<Link | undefined> {
    // A failed batch may or may not be in the stored count until it is written again.
    if (this.#counter.unsettled) await this.#counter.flush()
    for (let attempt = 0; ; attempt++) {
      await this.#counter.idle()
      const epoch = this.#counter.epoch
      const link = await this.#store.find(slug)
      if (epoch === this.#counter.epoch || attempt >= 5) return link
    }
  }
}
