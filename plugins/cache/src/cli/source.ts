// What the CLI reads from: a running service (HTTP) or files (a dump or a data folder).
import type { StoreImage } from '../image.ts'
import type { CollectionStats, ListOptions } from '../store.ts'
import type { DocumentView, ListView } from '../views/json.ts'
import type { StatsLike } from '../views/table.ts'

export interface CacheSource {
  collections(): Promise<CollectionStats[]>
  list(collection: string, options: ListOptions): Promise<ListView>
  get(collection: string, id: string): Promise<DocumentView | undefined>
  stats(): Promise<StatsLike>
  image(): Promise<StoreImage>
}

/** The service answered with an error, or could not be reached. */
export class SourceError extends Error {
  override name = 'SourceError'
}
