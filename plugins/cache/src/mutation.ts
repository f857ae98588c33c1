// A mutation is the unit of the file log: applying the log's mutations in order to the
// snapshot they follow rebuilds the store exactly.
import type { StoredDocument } from './document.ts'

export type Mutation =
  | { readonly seq: number; readonly op: 'put'; readonly doc: StoredDocument }
  | { readonly seq: number; readonly op: 'delete'; readonly collection: string; readonly id: string }

/** Where the store sends each mutation; the promise settles when it is durable by policy. */
export interface Journal {
  append(mutation: Mutation): Promise<void>
}
