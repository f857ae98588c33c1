// CRUD on documents. Each handler waits for `durable` before answering, so a 2xx
// means the write is in the log under the configured fsync policy.
import { Hono } from 'hono'
import { etagOf } from '../document.ts'
import type { Store } from '../store.ts'
import { documentView, listView } from '../views/json.ts'
import { readIfMatch, readJson, readLimit, readTtl } from './request.ts'
import { NotFoundError } from '../errors.ts'
import { checkCollection, checkId } from '../names.ts'

export type MutationKind = 'create' | 'put' | 'patch' | 'delete'

export function documentRoutes(store: Store, onMutation: (kind: MutationKind) => void = () => {}): Hono {
  const app = new Hono()

  app.get('/:collection', (c) => {
    const collection = c.req.param('collection')
    const cursor = c.req.query('cursor')
    const prefix = c.req.query('prefix')
    const limit = readLimit(c)
    const page = store.list(collection, { ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}), ...(prefix !== undefined ? { prefix } : {}) })
    return c.json(listView(collection, page))
  })

  app.post('/:collection', async (c) => {
    const collection = checkCollection(c.req.param('collection'))
    const id = c.req.query('id')
    const ttlMs = readTtl(c)
    const value = await readJson(c)
    const write = store.create(collection, id, value, ttlMs === undefined ? {} : { ttlMs })
    await write.durable
    onMutation('create')
    c.header('ETag', etagOf(write.doc))
    c.header('Location', `${new URL(c.req.url).pathname.replace(/\/$/, '')}/${encodeURIComponent(write.doc.id)}`)
    return c.json(documentView(write.doc), 201)
  })

  app.get('/:collection/:id', (c) => {
    const collection = checkCollection(c.req.param('collection'))
    const id = checkId(c.req.param('id'))
    const doc = store.get(collection, id)
    if (!doc) throw new NotFoundError(collection, id)
    const etag = etagOf(doc)
    c.header('ETag', etag)
    if (c.req.header('if-none-match')?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return c.body(null, 304)
    return c.json(documentView(doc))
  })

  app.put('/:collection/:id', async (c) => {
    const collection = checkCollection(c.req.param('collection'))
    const id = checkId(c.req.param('id'))
    const ttlMs = readTtl(c)
    const ifMatch = readIfMatch(c)
    const value = await readJson(c)
    const write = store.put(collection, id, value, { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) })
    await write.durable
    onMutation('put')
    c.header('ETag', etagOf(write.doc))
    return c.json(documentView(write.doc), write.created ? 201 : 200)
  })

  app.patch('/:collection/:id', async (c) => {
    const collection = checkCollection(c.req.param('collection'))
    const id = checkId(c.req.param('id'))
    const ttlMs = readTtl(c)
    const ifMatch = readIfMatch(c)
    const patch = await readJson(c)
    const write = store.patch(collection, id, patch, { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) })
    await write.durable
    onMutation('patch')
    c.header('ETag', etagOf(write.doc))
    return c.json(documentView(write.doc))
  })

  app.delete('/:collection/:id', async (c) => {
    const collection = checkCollection(c.req.param('collection'))
    const id = checkId(c.req.param('id'))
    const ifMatch = readIfMatch(c)
    const result = store.delete(collection, id, ifMatch !== undefined ? { ifMatch } : {})
    await result.durable
    onMutation('delete')
    // The ETag of a deletion is its own sequence number: it identifies this state (gone).
    c.header('ETag', `"${result.seq}"`)
    return c.body(null, 204)
  })

  return app
}
