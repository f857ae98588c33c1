// Reads a running service through its HTTP routes (the plugin's base, default /cache).
import { decodeImage, type StoreImage } from '../image.ts'
import type { CollectionStats, ListOptions } from '../store.ts'
import type { CollectionsView, DocumentView, ListView, StatsView } from '../views/json.ts'
import { SourceError, type CacheSource } from './source.ts'

export class HttpSource implements CacheSource {
  readonly base: string

  /** A URL without a path gets the plugin's default base `/cache`. */
  constructor(url: string) {
    const u = new URL(url)
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/cache'
    this.base = u.toString().replace(/\/$/, '')
  }

  async collections(): Promise<CollectionStats[]> {
    return ((await this.#get('')) as CollectionsView).collections
  }

  async list(collection: string, options: ListOptions): Promise<ListView> {
    const q = new URLSearchParams()
    if (options.limit !== undefined) q.set('limit', String(options.limit))
    if (options.cursor) q.set('cursor', options.cursor)
    if (options.prefix) q.set('prefix', options.prefix)
    const query = q.size ? `?${q}` : ''
    return (await this.#get(`/${encodeURIComponent(collection)}${query}`)) as ListView
  }

  async get(collection: string, id: string): Promise<DocumentView | undefined> {
    return (await this.#get(`/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`, true)) as DocumentView | undefined
  }

  async stats(): Promise<StatsView & { source: string }> {
    return { ...((await this.#get('/_stats')) as StatsView), source: this.base }
  }

  async image(): Promise<StoreImage> {
    const res = await this.#fetch('/_dump')
    return decodeImage(await res.text(), `${this.base}/_dump`)
  }

  async #get(path: string, missingOk = false): Promise<unknown> {
    const res = await this.#fetch(path, missingOk)
    return res.status === 404 && missingOk ? undefined : res.json()
  }

  async #fetch(path: string, missingOk = false): Promise<Response> {
    let res: Response
    try {
      res = await fetch(this.base + path)
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause
      throw new SourceError(`cannot reach ${this.base}: ${cause?.message ?? (err as Error).message}`)
    }
    if (res.ok || (missingOk && res.status === 404)) return res
    const text = await res.text()
    let message = text
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text
    } catch {}
    throw new SourceError(`${res.status} from ${this.base}${path}: ${message}`)
  }
}
