// One CRUD walk through every route and error code, run against the Hono app directly,
// through a node:http server, and through a real kernel: the same answers each time.
import * as assert from 'uvu/assert'

export type Call = (path: string, init?: RequestInit) => Promise<Response>

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
})

async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  const text = await res.text()
  assert.is(res.status, status, `expected ${status}, got ${res.status}: ${text}`)
  assert.ok(res.headers.get('etag'), `ETag on a ${status}`)
  const body = JSON.parse(text) as { error: string }
  assert.type(body.error, 'string')
  assert.match(body.error, pattern)
}

/** `maxBodyBytes` must be what the server under test was configured with. */
export async function crudScenario(call: Call, maxBodyBytes: number): Promise<void> {
  // create with a given id, then read it back
  let res = await call('/users?id=ann', { method: 'POST', ...json({ name: 'Ann', age: 30 }) })
  assert.is(res.status, 201)
  const created = (await res.json()) as { id: string; etag: string; version: number }
  assert.is(created.id, 'ann')
  assert.is(res.headers.get('etag'), created.etag)
  assert.match(res.headers.get('location') ?? '', /\/users\/ann$/)

  res = await call('/users/ann')
  assert.is(res.status, 200)
  assert.is(res.headers.get('etag'), created.etag)
  assert.equal(((await res.json()) as { value: unknown }).value, { name: 'Ann', age: 30 })
  res = await call('/users/ann', { headers: { 'if-none-match': created.etag } })
  assert.is(res.status, 304)

  // generated id
  res = await call('/users', { method: 'POST', ...json({ name: 'Gen' }) })
  assert.is(res.status, 201)
  const generated = (await res.json()) as { id: string }
  assert.match(generated.id, /^[0-9a-f-]{36}$/)

  // PUT creates (201) then replaces (200); If-Match mismatch is 412 with the current ETag
  res = await call('/users/bob', { method: 'PUT', ...json({ name: 'Bob' }) })
  assert.is(res.status, 201)
  const bob1 = res.headers.get('etag')!
  res = await call('/users/bob', { method: 'PUT', ...json({ name: 'Bob', v: 2 }, { 'if-match': bob1 }) })
  assert.is(res.status, 200)
  const bob2 = res.headers.get('etag')!
  assert.is.not(bob2, bob1)
  res = await call('/users/bob', { method: 'PUT', ...json({ name: 'stale' }, { 'if-match': bob1 }) })
  await expectError(res, 412, /does not match/)

  // PATCH merges; If-Match guarded; 412 carries the current ETag
  res = await call('/users/bob', { method: 'PATCH', ...json({ v: null, city: 'Oslo' }, { 'if-match': bob1 }) })
  assert.is(res.headers.get('etag'), bob2)
  await expectError(res, 412, /does not match/)
  res = await call('/users/bob', { method: 'PATCH', ...json({ v: null, city: 'Oslo' }, { 'if-match': bob2 }) })
  assert.is(res.status, 200)
  assert.equal(((await res.json()) as { value: unknown }).value, { name: 'Bob', city: 'Oslo' })

  // list, paging, prefix
  res = await call('/users?limit=1')
  assert.is(res.status, 200)
  const page1 = (await res.json()) as { items: { id: string }[]; nextCursor: string }
  assert.is(page1.items.length, 1)
  assert.ok(res.headers.get('etag'))
  res = await call(`/users?limit=10&cursor=${page1.nextCursor}`)
  const page2 = (await res.json()) as { items: { id: string }[]; nextCursor: string | null }
  assert.is(page2.items.length, 2)
  assert.is(page2.nextCursor, null)
  res = await call('/users?prefix=bo')
  assert.equal(
    ((await res.json()) as { items: { id: string }[] }).items.map((d) => d.id),
    ['bob'],
  )

  // TTL
  res = await call('/sessions/s1?ttl=60', { method: 'PUT', ...json({ user: 'ann' }) })
  assert.is(res.status, 201)
  assert.ok(((await res.json()) as { expiresAt: string | null }).expiresAt)

  // collections and stats
  res = await call('/')
  assert.equal(((await res.json()) as { collections: unknown }).collections, [
    { name: 'sessions', documents: 1 },
    { name: 'users', documents: 3 },
  ])
  res = await call('/_stats')
  assert.is(res.status, 200)
  assert.is(((await res.json()) as { documents: number }).documents, 4)

  // DELETE with a stale If-Match is 412, with the current one 204, then 404
  res = await call('/users/bob', { method: 'DELETE', headers: { 'if-match': bob1 } })
  await expectError(res, 412, /does not match/)
  res = await call('/users/bob', { method: 'DELETE' })
  assert.is(res.status, 204)
  assert.ok(res.headers.get('etag'))
  await expectError(await call('/users/bob'), 404, /not found/)
  await expectError(await call('/users/bob', { method: 'DELETE' }), 404, /not found/)
  await expectError(await call('/users/bob', { method: 'PATCH', ...json({}) }), 404, /not found/)

  // 409 on POST of an existing id
  await expectError(await call('/users?id=ann', { method: 'POST', ...json({}) }), 409, /already exists/)
  // 400s: bad JSON, empty body, bad id, bad collection, bad ttl, bad limit, bad cursor
  await expectError(await call('/users/x', { method: 'PUT', ...json('{"a":') }), 400, /not valid JSON/)
  await expectError(await call('/users/x', { method: 'PUT', ...json('') }), 400, /empty/)
  await expectError(await call('/users/-bad', { method: 'PUT', ...json({}) }), 400, /invalid id/)
  await expectError(await call('/users?id=a%20b', { method: 'POST', ...json({}) }), 400, /invalid id/)
  await expectError(await call('/-users/x'), 400, /invalid collection/)
  await expectError(await call('/users/x?ttl=-1', { method: 'PUT', ...json({}) }), 400, /ttl/)
  await expectError(await call('/users?limit=abc'), 400, /limit/)
  await expectError(await call('/users?limit=5000'), 400, /limit/)
  await expectError(await call('/users?cursor=***'), 400, /cursor/)
  // 415 and 413
  await expectError(await call('/users/x', { method: 'PUT', body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /not JSON/)
  const big = JSON.stringify({ blob: 'x'.repeat(maxBodyBytes) })
  await expectError(await call('/users/x', { method: 'PUT', ...json(big) }), 413, new RegExp(`^request body exceeds ${maxBodyBytes} bytes \\(CACHE_MAX_BODY_BYTES\\)$`))
  // Nesting past HTTP_MAX_JSON_DEPTH (default 64) is refused before it is parsed.
  await expectError(await call('/users/x', { method: 'PUT', ...json('{"a":' + '['.repeat(100) + ']'.repeat(100) + '}') }), 400, /nests deeper than 64 levels .*HTTP_MAX_JSON_DEPTH/)
  // unknown route
  await expectError(await call('/users/x/y'), 404, /no route/)
  // nothing above changed a stored document it should not have
  res = await call('/users/ann')
  assert.is(((await res.json()) as { version: number }).version, 1)
}
