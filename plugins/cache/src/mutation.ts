// A mutation is the unit of the file log: applying the log's mutations in order to the
// snapshot they follow rebuilds the store exactly.
import type { StoredDocument } from './document.ts'

export type Mutation =
  { readonly seq: number; readonly op: 'put'; readonly doc: StoredDocument } | { readonly seq: number; readonly op: 'delete'; readonly collection: string; readonly id: string }

/**
 * Where the store sends each mutation, before applying it. `append` throws, synchronously,
 * when it cannot take the mutation (it cannot be encoded, or the log refuses writes), so the
 * store leaves memory unchanged; otherwise the promise settles when it is durable by policy.
 */
export interface Journal {
  append(mutation: Mutation): Promise<void>
}
