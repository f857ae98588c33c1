// Reading what a request says: its JSON body, TTL and If-Match, with clear 4xx errors.
//
// Under @hono/node-server (the kernel) the Node request is read directly: headers from
// its parsed header object and the body from its data events. Going through the Fetch
// `Request` instead builds a Headers object, an AbortSignal and a web ReadableStream per
// request, which cost a PUT more CPU than everything else it does. Anywhere else (tests
// calling `app.request`, other runtimes) the Fetch request serves.
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import type { Json } from '../document.ts'
import { HttpError } from './errors.ts'

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i

/** The Node request behind `c`, when @hono/node-server passed it in the environment. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return incoming && typeof incoming.on === 'function' && typeof incoming.headers === 'object' ? incoming : undefined
}

/** A request header (lower-case name); repeated headers are joined with `, ` as Fetch does. */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c)
  if (!incoming) return c.req.header(name)
  const value = incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `request body is larger than the limit of ${maxBytes} bytes`)
}

/**
 * The whole request body as text, at most `maxBytes`: a larger Content-Length is refused
 * before reading, a body without one (chunked) as soon as it passes the limit.
 */
export function readBody(c: Context, maxBytes: number): Promise<string> {
  const declared = headerOf(c, 'content-length')
  if (declared !== undefined && headerOf(c, 'transfer-encoding') === undefined && Number.parseInt(declared, 10) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes))
  }
  const incoming = incomingOf(c)
  return incoming ? readIncoming(incoming, maxBytes) : readFetchBody(c.req.raw, maxBytes)
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  if (incoming.readableEnded) return Promise.resolve('')
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (err?: Error) => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
      incoming.off('aborted', onAborted)
      if (err) reject(err)
      else resolve(decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      // The rest of the body is left to the server, which discards it after the response.
      if (size > maxBytes) return done(tooLarge(maxBytes))
      chunks.push(chunk)
    }
    const onEnd = () => done()
    const onError = (err: Error) => done(new HttpError(400, `reading the request body failed: ${err.message}`))
    const onAborted = () => done(new HttpError(400, 'the request was aborted while its body was read'))
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
    incoming.on('aborted', onAborted)
  })
}

async function readFetchBody(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge(maxBytes)
    }
    chunks.push(value)
  }
  return decode(Buffer.concat(chunks, size))
}

/** UTF-8 without a leading byte order mark, as Fetch's `text()` decodes. */
function decode(bytes: Buffer): string {
  const text = bytes.toString('utf8')
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/** Checks the media type, then reads and parses the body. */
export async function readJson(c: Context, maxBytes: number): Promise<Json> {
  const type = headerOf(c, 'content-type')
  if (type && !JSON_TYPE.test(type)) {
    throw new HttpError(415, `content-type ${JSON.stringify(type)} is not JSON; send application/json`)
  }
  return parseJson(await readBody(c, maxBytes))
}

export function parseJson(text: string): Json {
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; send a JSON value')
  try {
    return JSON.parse(text) as Json
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`)
  }
}

/** A query parameter; skips Hono's query parsing when the URL has no query at all. */
export function queryOf(c: Context, name: string): string | undefined {
  return c.req.url.includes('?') ? c.req.query(name) : undefined
}

/** `?ttl=<seconds>` as milliseconds; undefined when absent. */
export function readTtl(c: Context): number | undefined {
  const raw = queryOf(c, 'ttl')
  if (raw === undefined) return undefined
  const seconds = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new HttpError(400, `ttl must be a positive number of seconds, got ${JSON.stringify(raw)}`)
  }
  return Math.round(seconds * 1000)
}

export function readIfMatch(c: Context): string | undefined {
  return headerOf(c, 'if-match')
}

export function readLimit(c: Context): number | undefined {
  const raw = queryOf(c, 'limit')
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(raw)}`)
  return n
}
