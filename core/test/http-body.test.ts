// The kernel's body reader, HttpError answers and the bearer check, through a real kernel.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { Hono } from 'hono'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { checkBearer, bearerToken, readJson, HttpError } from '../src/index.ts'
import { loadKernelConfig } from '../src/config.ts'
import { depthExceededAt } from '../src/http/json-depth.ts'
import { pluginsFolder, writePlugin } from './support.ts'

const READER = `import { definePlugin, HttpError } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'reader',
  setup(ctx) {
    const app = new Hono()
      .post('/json', async (c) => c.json({ got: await ctx.http.readJson(c) }))
      .post('/small', async (c) => c.json({ got: await ctx.http.readJson(c, { maxBytes: 16 }) }))
      .post('/named', async (c) => c.json({ got: await ctx.http.readJson(c, { maxBytes: 16, limitName: 'READER_MAX_BODY_BYTES' }) }))
      .post('/shallow', async (c) => c.json({ got: await ctx.http.readJson(c, { maxDepth: 2 }) }))
      .post('/bytes', async (c) => {
        const bytes = await ctx.http.readBody(c)
        return c.body(new Uint8Array(bytes), 200, { 'content-type': 'application/octet-stream' })
      })
      .get('/taken', () => {
        throw new HttpError(409, 'name is taken', { field: 'name', headers: { 'retry-after': '5' } })
      })
      .get('/status', () => {
        throw Object.assign(new Error('slow down'), { status: 429 })
      })
      .get('/odd-status', () => {
        throw Object.assign(new Error('secret detail'), { status: 'teapot' })
      })
    ctx.http.route(app)
  },
})
`

let dir: string
const kernels: TestKernel[] = []
const boot = async (env: Record<string, string> = {}) => {
  dir ??= pluginsFolder()
  const k = await startTestKernel({ plugins: [writePlugin(dir, 'reader', READER)], env })
  kernels.push(k)
  return k
}
test.after.each(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()))
})

const json = { 'content-type': 'application/json' }
const post = (url: string, body: BodyInit, headers: Record<string, string> = json) => fetch(url, { method: 'POST', body, headers, duplex: 'half' } as RequestInit)
async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  const text = await res.text()
  assert.is(res.status, status, text)
  assert.match((JSON.parse(text) as { error: string }).error, pattern)
}

/** A body of `total` bytes sent chunked, without a Content-Length. */
function chunked(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  const piece = new Uint8Array(chunk).fill(0x20)
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close()
      const n = Math.min(chunk, total - sent)
      controller.enqueue(n === chunk ? piece : piece.subarray(0, n))
      sent += n
    },
  })
}

/** Sends `head` bytes with a Content-Length of `declared`, and resolves with the status (no body is needed for a refusal). */
function declaredLength(url: string, declared: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...json, 'content-length': String(declared) } }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    req.write(head)
  })
}

test('readJson: parses JSON; 413 past HTTP_MAX_BODY_BYTES (declared or chunked), 415, 400 empty and bad JSON with the position', async () => {
  const k = await boot()
  const ok = await post(`${k.url}/reader/json`, '{"a":[1,{"b":"x"}]}')
  assert.is(ok.status, 200)
  assert.equal(await ok.json(), { got: { a: [1, { b: 'x' }] } })
  // A missing Content-Type is taken as JSON; a declared non-JSON one is refused.
  const bare = await fetch(`${k.url}/reader/json`, { method: 'POST', body: new Uint8Array(Buffer.from('{"n":1}')) })
  assert.equal(await bare.json(), { got: { n: 1 } })
  assert.is((await post(`${k.url}/reader/json`, '{"n":1}', { 'content-type': 'application/merge-patch+json; charset=utf-8' })).status, 200)
  await expectError(await post(`${k.url}/reader/json`, '{"n":1}', { 'content-type': 'text/plain' }), 415, /content-type "text\/plain" is not JSON/)
  await expectError(await post(`${k.url}/reader/json`, ' '), 400, /request body is empty/)
  await expectError(await post(`${k.url}/reader/json`, '{"a":1'), 400, /not valid JSON: .*at position 6/)

  // The limit to the byte: exactly 1 MiB is read, one byte more is not, declared or chunked.
  const exact = JSON.stringify('x'.repeat(1024 * 1024 - 2))
  assert.is((await post(`${k.url}/reader/json`, exact)).status, 200)
  await expectError(await post(`${k.url}/reader/json`, exact + ' '), 413, /^request body exceeds 1048576 bytes \(HTTP_MAX_BODY_BYTES\)$/)
  await expectError(await post(`${k.url}/reader/json`, chunked(1024 * 1024 + 1)), 413, /^request body exceeds 1048576 bytes \(HTTP_MAX_BODY_BYTES\)$/)
  // A declared length over the limit is answered before the body arrives.
  const refused = await declaredLength(`${k.url}/reader/json`, 50 * 1024 * 1024, '{"a":')
  assert.is(refused.status, 413)
  assert.match(refused.body, /exceeds 1048576 bytes/)
  // The connection pool still works after refused bodies.
  assert.is((await post(`${k.url}/reader/json`, '1')).status, 200)
})

test('readJson: nesting past HTTP_MAX_JSON_DEPTH is a 400 naming it; brackets inside strings do not count', async () => {
  const k = await boot()
  const nested = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)
  assert.is((await post(`${k.url}/reader/json`, nested(64))).status, 200)
  await expectError(await post(`${k.url}/reader/json`, nested(65)), 400, /nests deeper than 64 levels at position 320 \(HTTP_MAX_JSON_DEPTH\)/)
  await expectError(await post(`${k.url}/reader/json`, '['.repeat(5000) + ']'.repeat(5000)), 400, /HTTP_MAX_JSON_DEPTH/)
  const inString = JSON.stringify({ text: '[[[[{{{{'.repeat(50), quote: 'a \\" [ "', deeper: [[['x']]] })
  const res = await post(`${k.url}/reader/json`, inString)
  assert.is(res.status, 200)
  assert.equal(((await res.json()) as { got: unknown }).got, JSON.parse(inString))
  await expectError(await post(`${k.url}/reader/shallow`, '[[[1]]]'), 400, /deeper than 2 levels .*this route's limit/)
})

test('HTTP_MAX_BODY_BYTES and HTTP_MAX_JSON_DEPTH configure the defaults; a route overrides them and may name its own setting', async () => {
  const k = await boot({ HTTP_MAX_BODY_BYTES: '100', HTTP_MAX_JSON_DEPTH: '3' })
  await expectError(await post(`${k.url}/reader/json`, JSON.stringify('x'.repeat(100))), 413, /^request body exceeds 100 bytes \(HTTP_MAX_BODY_BYTES\)$/)
  assert.is((await post(`${k.url}/reader/json`, '[[[1]]]')).status, 200)
  await expectError(await post(`${k.url}/reader/json`, '[[[[1]]]]'), 400, /deeper than 3 levels at position 3 \(HTTP_MAX_JSON_DEPTH\)/)
  await expectError(await post(`${k.url}/reader/small`, JSON.stringify('x'.repeat(20))), 413, /^request body exceeds 16 bytes \(this route's limit\)$/)
  await expectError(await post(`${k.url}/reader/named`, JSON.stringify('x'.repeat(20))), 413, /^request body exceeds 16 bytes \(READER_MAX_BODY_BYTES\)$/)
  for (const [key, value] of [
    ['HTTP_MAX_JSON_DEPTH', '1001'],
    ['HTTP_MAX_JSON_DEPTH', '0'],
    ['HTTP_MAX_BODY_BYTES', '-1'],
    ['HTTP_MAX_BODY_BYTES', String(2 ** 40)],
  ] as const) {
    await loadKernelConfig({ cwd: process.cwd(), env: { [key]: value } }).then(
      () => assert.unreachable(`${key}=${value} should be refused`),
      (error: Error) => assert.match(error.message, new RegExp(`^${key}: `)),
    )
  }
})

/**
 * One POST over a raw socket: the head, then `parts` of the body, each written `gapMs` after the
 * last (0: all in one write with the head); `chunked` frames each part as a chunk instead of
 * declaring a Content-Length. Resolves with the raw answer.
 */
function rawPost(url: string, path: string, parts: string[], gapMs: number, chunked = false): Promise<string> {
  const { hostname, port } = new URL(url)
  const length = parts.reduce((n, part) => n + Buffer.byteLength(part), 0)
  const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${length}`
  const head = `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n${framing}\r\nconnection: close\r\n\r\n`
  const framed = chunked ? [...parts.map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`), '0\r\n\r\n'] : parts
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let answer = ''
    socket.on('data', (d) => (answer += d))
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
    socket.on('connect', async () => {
      if (gapMs === 0) return socket.write(head + framed.join(''))
      socket.write(head)
      for (const part of framed) {
        await new Promise((r) => setTimeout(r, gapMs))
        if (!socket.destroyed) socket.write(part)
      }
    })
  })
}

test('readJson: a body that came with its headers and one that trickles in after them read the same', async () => {
  const k = await boot()
  const body = JSON.stringify({ name: 'подтверждение', n: [1, 2, 3] })
  const parts = [body.slice(0, 7), body.slice(7, 20), body.slice(20)]
  for (const [gap, chunked] of [
    [0, false],
    [30, false],
    [0, true],
    [30, true],
  ] as const) {
    const answer = await rawPost(k.url, '/reader/json', parts, gap, chunked)
    assert.match(answer, /^HTTP\/1\.1 200 /, `gap ${gap}, chunked ${chunked}`)
    assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { got: JSON.parse(body) })
  }
  // A chunked body over the route's limit is 413 whether its bytes were all buffered already or still coming.
  for (const gap of [0, 30]) assert.match(await rawPost(k.url, '/reader/small', ['{"a":"', 'x'.repeat(40), '"}'], gap, true), /^HTTP\/1\.1 413 /)
})

test('readBody: the bytes as sent, under the same limit', async () => {
  const k = await boot()
  const bytes = new Uint8Array(3000).map((_, i) => i % 256)
  const res = await fetch(`${k.url}/reader/bytes`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } })
  assert.equal(new Uint8Array(await res.arrayBuffer()), bytes)
  await expectError(await post(`${k.url}/reader/bytes`, chunked(2 * 1024 * 1024), {}), 413, /exceeds 1048576 bytes/)
})

test('the plugin mount answers HttpError and any error with a 4xx/5xx status as JSON, with its field and headers', async () => {
  const k = await boot()
  const taken = await fetch(`${k.url}/reader/taken`)
  assert.is(taken.status, 409)
  assert.is(taken.headers.get('retry-after'), '5')
  assert.equal(await taken.json(), { error: 'name is taken', field: 'name' })
  const limited = await fetch(`${k.url}/reader/status`)
  assert.is(limited.status, 429)
  assert.equal(await limited.json(), { error: 'slow down' })
  const odd = await fetch(`${k.url}/reader/odd-status`)
  assert.is(odd.status, 500)
  assert.equal(await odd.json(), { error: 'internal error' })
  assert.throws(() => new HttpError(200, 'fine'), /status 200 must be an integer from 400 to 599/)
  assert.is(new HttpError(404, 'gone').name, 'HttpError')
})

test('readJson without a kernel: the Fetch body of app.request, with the built-in defaults', async () => {
  const caught: unknown[] = []
  const app = new Hono()
    .post('/', async (c) => c.json({ got: await readJson(c) }))
    .post('/flat', async (c) => c.json({ got: await readJson(c, { maxDepth: 1 }) }))
    .onError((error) => (caught.push(error), Response.json({}, { status: 418 })))
  const ok = await app.request('/', { method: 'POST', body: '\ufeff{"bom":true}', headers: json })
  assert.equal(await ok.json(), { got: { bom: true } })
  await app.request('/', { method: 'POST', body: chunked(1024 * 1024 + 1), headers: json, duplex: 'half' } as RequestInit)
  await app.request('/flat', { method: 'POST', body: '[[1]]', headers: json })
  assert.equal(
    caught.map((e) => [e instanceof HttpError, (e as HttpError).status]),
    [
      [true, 413],
      [true, 400],
    ],
  )
})

test('the depth scan: strings and escapes skipped, the first bracket past the limit found', () => {
  assert.is(depthExceededAt('[[1]]', 2), -1)
  assert.is(depthExceededAt('[[[1]]]', 2), 2)
  assert.is(depthExceededAt('{"a":"\\\\","b":[1]}', 1), 14, 'an escaped backslash before the closing quote')
  assert.is(depthExceededAt('["\\"[[[[", [[1]]]', 2), 12, 'an escaped quote keeps the string open')
  assert.is(depthExceededAt('"unterminated [[[[', 1), -1)
})

test('bearer: the scheme in any case, the token compared whole', () => {
  assert.is(bearerToken('Bearer abc'), 'abc')
  assert.is(bearerToken('bearer abc'), 'abc')
  assert.is(bearerToken('BEARER   abc '), 'abc')
  assert.is(bearerToken('Basic abc'), undefined)
  assert.is(bearerToken('Bearer'), undefined)
  assert.is(bearerToken(undefined), undefined)
  assert.is(checkBearer(undefined, 'Bearer x'), 'disabled')
  assert.is(checkBearer('s3cret', undefined), 'missing')
  assert.is(checkBearer('s3cret', 'Bearer s3cre'), 'wrong')
  assert.is(checkBearer('s3cret', 'Bearer s3cret2'), 'wrong')
  assert.is(checkBearer('s3cret', 'bEaReR s3cret'), 'ok')
})

test('admin routes: the bearer scheme is case-insensitive; 401 carries WWW-Authenticate; 403 without ADMIN_TOKEN', async () => {
  const k = await boot({ ADMIN_TOKEN: 's3cret' })
  const reload = (authorization?: string) => fetch(`${k.url}/_armature/plugins/reader/reload`, { method: 'POST', headers: authorization ? { authorization } : {} })
  const missing = await reload()
  assert.is(missing.status, 401)
  assert.is(missing.headers.get('www-authenticate'), 'Bearer')
  const wrong = await reload('Bearer s3cret-and-more')
  assert.is(wrong.status, 401)
  assert.is(wrong.headers.get('www-authenticate'), 'Bearer')
  assert.is((await reload('bearer s3cret')).status, 200)
  const open = await boot()
  await expectError(await fetch(`${open.url}/_armature/plugins/reader/reload`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } }), 403, /set ADMIN_TOKEN/)
})

test.run()
