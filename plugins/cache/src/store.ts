// The model: collections of JSON documents held in memory.
//
// Every mutation checks its precondition, takes the next sequence number, goes to the
// journal (the file log, in sequence order) and changes the maps in one synchronous step,
// so interleaved async callers can never lose an update: JavaScript runs that step to
// completion before any other request is looked at. The journal encodes the record
// before memory changes, so a write it cannot take (a value JSON.stringify cannot write,
// a log that failed) leaves memory as it was. The caller awaits `durable` before
// acknowledging; a reader may therefore see a write a moment before it is on disk, as
// with Redis's appendfsync.
import { randomUUID } from 'node:crypto'
import { etagOf, isExpired, type Json, type StoredDocument } from './document.ts'
import { AlreadyExistsError, ClosedError, NotFoundError, PreconditionFailedError, ValidationError } from './errors.ts'
import { IMAGE_FORMAT, IMAGE_VERSION, type StoreImage } from './image.ts'
import type { Journal, Mutation } from './mutation.ts'
import { mergePatch } from './merge-patch.ts'
import { checkCollection, checkId } from './names.ts'

export interface WriteOptions {
  /** The If-Match header value: `*`, or one or more strong ETags separated by commas. */
  ifMatch?: string
  /** Time to live in milliseconds; null removes an expiry; undefined: PUT clears, PATCH keeps. */
  ttlMs?: number | null
}

export interface WriteResult {
  readonly doc: StoredDocument
  readonly created: boolean
  /** Settles when the mutation is durable according to the journal's policy. */
  readonly durable: Promise<void>
}

export interface DeleteResult {
  readonly deleted: StoredDocument
  readonly seq: number
  readonly durable: Promise<void>
}

export interface ListOptions {
  limit?: number
  /** Opaque value from a previous page's `nextCursor`. */
  cursor?: string
  /** Only ids starting with this string. */
  prefix?: string
}

export interface ListPage {
  readonly items: StoredDocument[]
  readonly nextCursor: string | null
}

export interface CollectionStats {
  readonly name: string
  readonly documents: number
}

export const MAX_LIST_LIMIT = 1000
export const DEFAULT_LIST_LIMIT = 100
/** Ten years: a TTL beyond that is more likely a unit mistake than an intent. */
export const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000

export interface StoreOptions {
  journal?: Journal
  now?: () => number
}

export class Store {
  #collections = new Map<string, Map<string, StoredDocument>>()
  #seq = 0
  #closed = false
  #journal: Journal | undefined
  readonly now: () => number

  constructor(options: StoreOptions = {}) {
    this.#journal = options.journal
    this.now = options.now ?? Date.now
  }

  /** The sequence number of the last mutation applied. */
  get seq(): number {
    return this.#seq
  }

  /** Sends later mutations to this journal (set after restore, so replay is not re-logged). */
  setJournal(journal: Journal | undefined): void {
    this.#journal = journal
  }

  /** Refuses further writes; reads keep working. */
  close(): void {
    this.#closed = true
  }

  get(collection: string, id: string): StoredDocument | undefined {
    const doc = this.#collections.get(collection)?.get(id)
    return doc && !isExpired(doc, this.now()) ? doc : undefined
  }

  list(collection: string, options: ListOptions = {}): ListPage {
    checkCollection(collection)
    const limit = options.limit ?? DEFAULT_LIST_LIMIT
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new ValidationError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${options.limit}`)
    }
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor)
    const docs = this.#collections.get(collection)
    if (!docs) return { items: [], nextCursor: null }
    const now = this.now()
    const prefix = options.prefix ?? ''
    const ids = [...docs.keys()].filter((id) => id.startsWith(prefix) && (after === undefined || id > after)).sort()
    const items: StoredDocument[] = []
    let i = 0
    for (; i < ids.length && items.length < limit; i++) {
      const doc = docs.get(ids[i]!)!
      if (!isExpired(doc, now)) items.push(doc)
    }
    const more = i < ids.length
    return { items, nextCursor: more && items.length ? encodeCursor(items.at(-1)!.id) : null }
  }

  collections(): CollectionStats[] {
    const now = this.now()
    return [...this.#collections.entries()]
      .map(([name, docs]) => ({ name, documents: [...docs.values()].filter((d) => !isExpired(d, now)).length }))
      .filter((c) => c.documents > 0)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  /** Number of documents held, expired ones not yet swept included. */
  get size(): number {
    let n = 0
    for (const docs of this.#collections.values()) n += docs.size
    return n
  }

  /** POST: creates a document; the id is generated when not given. */
  create(collection: string, id: string | undefined, value: Json, options: WriteOptions = {}): WriteResult {
    checkCollection(collection)
    const docId = id === undefined ? randomUUID() : checkId(id)
    if (this.get(collection, docId)) throw new AlreadyExistsError(collection, docId)
    return this.#write(collection, docId, undefined, value, options.ttlMs ?? null)
  }

  /** PUT: creates or replaces. */
  put(collection: string, id: string, value: Json, options: WriteOptions = {}): WriteResult {
    checkCollection(collection)
    checkId(id)
    const current = this.get(collection, id)
    checkIfMatch(options.ifMatch, current)
    return this.#write(collection, id, current, value, options.ttlMs ?? null)
  }

  /** PATCH: JSON Merge Patch on an existing document. */
  patch(collection: string, id: string, patch: Json, options: WriteOptions = {}): WriteResult {
    checkCollection(collection)
    checkId(id)
    const current = this.get(collection, id)
    if (!current) throw new NotFoundError(collection, id)
    checkIfMatch(options.ifMatch, current)
    const ttlMs = options.ttlMs === undefined ? undefined : options.ttlMs
    return this.#write(collection, id, current, patched(collection, id, current.value, patch), ttlMs)
  }

  delete(collection: string, id: string, options: Pick<WriteOptions, 'ifMatch'> = {}): DeleteResult {
    checkCollection(collection)
    checkId(id)
    const current = this.get(collection, id)
    if (!current) throw new NotFoundError(collection, id)
    checkIfMatch(options.ifMatch, current)
    this.#assertOpen()
    const mutation: Mutation = { seq: this.#seq + 1, op: 'delete', collection, id }
    return { deleted: current, seq: mutation.seq, durable: this.#commit(mutation) }
  }

  /**
   * Removes expired documents through ordinary delete mutations, so the log and the
   * dumps agree with memory. Returns how many were removed.
   */
  sweepExpired(max = 10_000): number {
    if (this.#closed) return 0
    const now = this.now()
    let removed = 0
    for (const [collection, docs] of this.#collections) {
      for (const doc of docs.values()) {
        if (removed >= max) return removed
        if (!isExpired(doc, now)) continue
        const mutation: Mutation = { seq: this.#seq + 1, op: 'delete', collection, id: doc.id }
        let durable: Promise<void>
        try {
          durable = this.#commit(mutation)
        } catch {
          // The log takes no writes: expired documents stay (they read as missing) until it does.
          return removed
        }
        // A failed append is reported by the journal itself; nobody waits on a sweep.
        durable.catch(() => {})
        removed++
      }
    }
    return removed
  }

  /** Applies one mutation from the log (or from a write above). Older sequence numbers are ignored. */
  apply(mutation: Mutation): boolean {
    if (mutation.seq <= this.#seq) return false
    if (mutation.op === 'put') {
      const { doc } = mutation
      let docs = this.#collections.get(doc.collection)
      if (!docs) this.#collections.set(doc.collection, (docs = new Map()))
      docs.set(doc.id, doc)
    } else {
      const docs = this.#collections.get(mutation.collection)
      docs?.delete(mutation.id)
      if (docs?.size === 0) this.#collections.delete(mutation.collection)
    }
    this.#seq = mutation.seq
    return true
  }

  /** A consistent copy of the whole store, taken synchronously (documents are shared, not copied). */
  image(): StoreImage {
    const documents: StoredDocument[] = []
    for (const docs of this.#collections.values()) for (const doc of docs.values()) documents.push(doc)
    return { format: IMAGE_FORMAT, version: IMAGE_VERSION, seq: this.#seq, createdAt: this.now(), documents }
  }

  /** Replaces the whole content with an image (restore). */
  load(image: StoreImage): void {
    this.#collections.clear()
    for (const doc of image.documents) {
      let docs = this.#collections.get(doc.collection)
      if (!docs) this.#collections.set(doc.collection, (docs = new Map()))
      docs.set(doc.id, doc)
    }
    this.#seq = image.seq
  }

  #write(collection: string, id: string, current: StoredDocument | undefined, value: Json, ttlMs: number | null | undefined): WriteResult {
    this.#assertOpen()
    const now = this.now()
    const seq = this.#seq + 1
    const expiresAt = ttlMs === undefined ? (current?.expiresAt ?? null) : ttlMs === null ? null : now + checkTtl(ttlMs)
    const doc: StoredDocument = {
      collection,
      id,
      value,
      version: (current?.version ?? 0) + 1,
      seq,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      expiresAt,
    }
    const mutation: Mutation = { seq, op: 'put', doc }
    return { doc, created: current === undefined, durable: this.#commit(mutation) }
  }

  /** Logs, then applies: a mutation the journal refuses (it throws) never reaches memory. */
  #commit(mutation: Mutation): Promise<void> {
    const durable = this.#journal ? this.#journal.append(mutation) : Promise.resolve()
    this.apply(mutation)
    return durable
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError()
  }
}

/** The merge patch applied; a patch nested too deep for mergePatch's recursion is refused, not a crash. */
function patched(collection: string, id: string, value: Json, patch: Json): Json {
  try {
    return mergePatch(value, patch)
  } catch (err) {
    if (err instanceof RangeError) throw new ValidationError(`the patch of ${collection}/${id} nests too deeply to apply (${err.message}); nothing was changed`)
    throw err
  }
}

function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    throw new ValidationError(`ttl must be a positive number of milliseconds up to ${MAX_TTL_MS}, got ${ttlMs}`)
  }
  return ttlMs
}

/** Strong comparison (RFC 9110 13.1.1): a weak tag never matches; `*` matches any existing document. */
function checkIfMatch(ifMatch: string | undefined, current: StoredDocument | undefined): void {
  if (ifMatch === undefined) return
  const actual = current ? etagOf(current) : undefined
  const wanted = ifMatch.split(',').map((t) => t.trim())
  const ok = current !== undefined && wanted.some((t) => t === '*' || t === actual)
  if (!ok) throw new PreconditionFailedError(ifMatch, actual)
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!id || encodeCursor(id) !== cursor) throw new ValidationError(`invalid cursor ${JSON.stringify(cursor)}`)
  return id
}
