// JSON views: the shapes clients see. Times are ISO strings; the ETag is repeated in
// the body so a client that stores a document keeps its version with it.
import { etagOf, type Json, type StoredDocument } from '../document.ts'
import type { CacheStats } from '../cache.ts'
import type { CollectionStats, ListPage } from '../store.ts'

export interface DocumentView {
  readonly collection: string
  readonly id: string
  readonly value: Json
  readonly version: number
  readonly etag: string
  readonly createdAt: string
  readonly updatedAt: string
  readonly expiresAt: string | null
}

export interface ListView {
  readonly collection: string
  readonly items: DocumentView[]
  readonly nextCursor: string | null
}

export interface CollectionsView {
  readonly collections: CollectionStats[]
}

export interface ErrorView {
  readonly error: string
}

const iso = (ms: number) => new Date(ms).toISOString()

export function documentView(doc: StoredDocument): DocumentView {
  return {
    collection: doc.collection,
    id: doc.id,
    value: doc.value,
    version: doc.version,
    etag: etagOf(doc),
    createdAt: iso(doc.createdAt),
    updatedAt: iso(doc.updatedAt),
    expiresAt: doc.expiresAt === null ? null : iso(doc.expiresAt),
  }
}

export function listView(collection: string, page: ListPage): ListView {
  return { collection, items: page.items.map(documentView), nextCursor: page.nextCursor }
}

export function collectionsView(collections: CollectionStats[]): CollectionsView {
  return { collections }
}

export type StatsView = Omit<CacheStats, 'redis'> & {
  readonly redis: Omit<CacheStats['redis'], 'lastDumpAt'> & { readonly lastDumpAt: string | null }
}

export function statsView(stats: CacheStats): StatsView {
  return { ...stats, redis: { ...stats.redis, lastDumpAt: stats.redis.lastDumpAt === undefined ? null : iso(stats.redis.lastDumpAt) } }
}

export function errorView(message: string): ErrorView {
  return { error: message }
}
