// The stored entity: a JSON value with bookkeeping. Documents are immutable once stored;
// every write replaces the object, so a snapshot can share them without copying.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

export interface StoredDocument {
  readonly collection: string
  readonly id: string
  readonly value: Json
  /** Per-document revision: 1 on create, +1 on every write. */
  readonly version: number
  /** Global sequence number of the mutation that wrote this revision. */
  readonly seq: number
  readonly createdAt: number
  readonly updatedAt: number
  /** Epoch milliseconds after which the document is gone; null for no expiry. */
  readonly expiresAt: number | null
}

/**
 * The ETag is the sequence number of the last write, not the per-document version:
 * the version restarts at 1 when a document is deleted and created again, so an old
 * If-Match could match the new document; the sequence number never repeats.
 */
export function etagOf(doc: Pick<StoredDocument, 'seq'>): string {
  return `"${doc.seq}"`
}

export function isExpired(doc: StoredDocument, now: number): boolean {
  return doc.expiresAt !== null && doc.expiresAt <= now
}
