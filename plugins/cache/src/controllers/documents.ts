// CRUD on documents. Each write handler waits for `durable` before answering, so a 2xx
// means the write is in the log under the configured fsync policy. Reads answer
// synchronously, which keeps them on the server's fast path.
import type { Context } from 'hono'
import { etagOf, type Json, type StoredDocument } from '../document.ts'
import type { Store } from '../store.ts'
import { documentView, listView } from '../views/json.ts'
import { headerOf, queryOf, readIfMatch, readLimit, readTtl } from './request.ts'
import { NotFoundError } from '../errors.ts'
import { checkCollection, checkId } from '../names.ts'
import { answerResponse, documentAnswer, emptyResponse, jsonResponse, type DocumentAnswer } from './respond.ts'

export type MutationKind = 'create' | 'put' | 'patch' | 'delete'

/**
 * Reads a request's JSON body with its limits (the kernel's `ctx.http.readJson`, bound to the
 * cache's body limit); throws errors carrying a 4xx `status` (413, 415, 400).
 */
export type ReadJson = (c: Context) => Promise<unknown>

export class DocumentController {
  /**
   * Each read document version's GET answer, built on its first GET. Keyed by the stored
   * object itself: a PUT, PATCH or DELETE stores a new object (or none), so a replaced
   * version can never be answered again, and its entry goes with it once nothing else
   * (a snapshot or dump in progress) holds the old object. Undefined: built per request.
   */
  readonly #answers: WeakMap<StoredDocument, DocumentAnswer> | undefined

  readonly #store: Store
  readonly #readJson: ReadJson
  readonly #onMutation: (kind: MutationKind) => void
  constructor(store: Store, readJson: ReadJson, onMutation: (kind: MutationKind) => void = () => {}, cacheAnswers = true) {
    this.#store = store
    this.#readJson = readJson
    this.#onMutation = onMutation
    this.#answers = cacheAnswers ? new WeakMap() : undefined
  }

  #buildAnswer(doc: StoredDocument, etag: string): DocumentAnswer {
    const answer = documentAnswer(etag, documentView(doc))
    this.#answers?.set(doc, answer)
    return answer
  }

  /** JSON.parse yields JSON values only. */
  async #json(c: Context): Promise<Json> {
    return (await this.#readJson(c)) as Json
  }

  #weak(): string {
    return `W/"${this.#store.seq}"`
  }

  list(c: Context, collection: string): Response {
    const cursor = queryOf(c, 'cursor')
    const prefix = queryOf(c, 'prefix')
    const limit = readLimit(c)
    const page = this.#store.list(collection, {
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
    })
    return jsonResponse(listView(collection, page), 200, this.#weak())
  }

  async create(c: Context, collectionParam: string): Promise<Response> {
    const collection = checkCollection(collectionParam)
    const id = queryOf(c, 'id')
    const ttlMs = readTtl(c)
    const value = await this.#json(c)
    const write = this.#store.create(collection, id, value, ttlMs === undefined ? {} : { ttlMs })
    await write.durable
    this.#onMutation('create')
    return jsonResponse(documentView(write.doc), 201, etagOf(write.doc), { location: `${new URL(c.req.url).pathname.replace(/\/$/, '')}/${encodeURIComponent(write.doc.id)}` })
  }

  get(c: Context, collectionParam: string, idParam: string): Response {
    const collection = checkCollection(collectionParam)
    const id = checkId(idParam)
    const doc = this.#store.get(collection, id)
    // An expired document is undefined here, before any cached answer is looked at.
    if (!doc) throw new NotFoundError(collection, id)
    const cached = this.#answers?.get(doc)
    const etag = cached === undefined ? etagOf(doc) : cached.etag
    const ifNoneMatch = headerOf(c, 'if-none-match')
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return emptyResponse(304, etag)
    return answerResponse(cached ?? this.#buildAnswer(doc, etag))
  }

  async put(c: Context, collectionParam: string, idParam: string): Promise<Response> {
    const collection = checkCollection(collectionParam)
    const id = checkId(idParam)
    const ttlMs = readTtl(c)
    const ifMatch = readIfMatch(c)
    const value = await this.#json(c)
    const write = this.#store.put(collection, id, value, { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) })
    await write.durable
    this.#onMutation('put')
    return jsonResponse(documentView(write.doc), write.created ? 201 : 200, etagOf(write.doc))
  }

  async patch(c: Context, collectionParam: string, idParam: string): Promise<Response> {
    const collection = checkCollection(collectionParam)
    const id = checkId(idParam)
    const ttlMs = readTtl(c)
    const ifMatch = readIfMatch(c)
    const patch = await this.#json(c)
    const write = this.#store.patch(collection, id, patch, { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) })
    await write.durable
    this.#onMutation('patch')
    return jsonResponse(documentView(write.doc), 200, etagOf(write.doc))
  }

  async delete(c: Context, collectionParam: string, idParam: string): Promise<Response> {
    const collection = checkCollection(collectionParam)
    const id = checkId(idParam)
    const ifMatch = readIfMatch(c)
    const result = this.#store.delete(collection, id, ifMatch !== undefined ? { ifMatch } : {})
    await result.durable
    this.#onMutation('delete')
    // The ETag of a deletion is its own sequence number: it identifies this state (gone).
    return emptyResponse(204, `"${result.seq}"`)
  }
}
