// The one request body reader. The limit is enforced while the body streams in: a declared
// Content-Length over it is refused before a byte is read, and a body without one (chunked)
// is cut off as soon as it passes the limit, the rest never buffered. JSON is parsed only
// after its nesting depth is checked, without recursion (see json-depth.ts).
//
// Under @hono/node-server the Node request is read directly (its headers object and data
// events); going through the Fetch `Request` builds a Headers object, an AbortSignal and a
// web ReadableStream per request, which costs a small JSON POST more than parsing it.
// Elsewhere (`app.request` in tests, a body already taken as a web stream) the Fetch body serves.
import type { HttpBindings } from '@hono/node-server'
import { constants } from 'node:buffer'
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { HttpError } from '../errors.ts'
import { depthExceededAt } from './json-depth.ts'

/** HTTP_MAX_BODY_BYTES's default: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** HTTP_MAX_JSON_DEPTH's default. */
export const DEFAULT_MAX_JSON_DEPTH = 64
/** The deepest HTTP_MAX_JSON_DEPTH allowed: V8's JSON.stringify overflows the stack a few thousand levels down. */
export const MAX_JSON_DEPTH = 1000
/** The largest HTTP_MAX_BODY_BYTES allowed: the longest text a JS string can hold. */
export const MAX_BODY_BYTES = constants.MAX_STRING_LENGTH

export interface ReadBodyOptions {
  /** Largest body accepted, in bytes. Default: HTTP_MAX_BODY_BYTES (1 MiB unless configured). */
  maxBytes?: number
  /**
   * The setting that holds `maxBytes`, named in the 413 message (e.g. `SHORTENER_MAX_BODY_BYTES`).
   * Default: `HTTP_MAX_BODY_BYTES`, or "this route's limit" when `maxBytes` is given.
   */
  limitName?: string
}

export interface ReadJsonOptions extends ReadBodyOptions {
  /** Deepest nesting of objects and arrays accepted. Default: HTTP_MAX_JSON_DEPTH (64 unless configured). */
  maxDepth?: number
}

/** The kernel's configured defaults, which `ctx.http.readJson` and `ctx.http.readBody` apply. */
export interface BodyLimits {
  readonly maxBytes: number
  readonly maxDepth: number
}

/** What the exported readers use when no limit is given (code holding a ctx uses ctx.http's, which follow the config). */
const BUILT_IN: BodyLimits = { maxBytes: DEFAULT_MAX_BODY_BYTES, maxDepth: DEFAULT_MAX_JSON_DEPTH }

export type BodyReader = (c: Context<any, any, any>, options?: ReadBodyOptions) => Promise<Buffer>
export type JsonReader = (c: Context<any, any, any>, options?: ReadJsonOptions) => Promise<unknown>

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i

/** The whole body as bytes, at most `maxBytes` (413 past it). */
export async function readBody(c: Context<any, any, any>, options: ReadBodyOptions = {}): Promise<Buffer> {
  return bodyOf(c, resolveLimits(options, BUILT_IN))
}

/**
 * The body parsed as JSON: 415 when the Content-Type is not JSON (a missing one is taken as
 * JSON), 413 past `maxBytes`, 400 when empty, not valid JSON, or nested deeper than `maxDepth`.
 */
export async function readJson(c: Context<any, any, any>, options: ReadJsonOptions = {}): Promise<unknown> {
  return jsonOf(c, resolveLimits(options, BUILT_IN))
}

/** `readBody` and `readJson` with the kernel's configured limits as their defaults. */
export function bodyReaders(limits: BodyLimits): { readBody: BodyReader; readJson: JsonReader } {
  return {
    readBody: async (c, options = {}) => bodyOf(c, resolveLimits(options, limits)),
    readJson: async (c, options = {}) => jsonOf(c, resolveLimits(options, limits)),
  }
}

interface Limits {
  readonly maxBytes: number
  readonly maxDepth: number
  /** What the error messages call each limit: its setting, or the route's own. */
  readonly bytesName: string
  readonly depthName: string
}

function resolveLimits(options: ReadJsonOptions, defaults: BodyLimits): Limits {
  const limits = {
    maxBytes: options.maxBytes ?? defaults.maxBytes,
    maxDepth: options.maxDepth ?? defaults.maxDepth,
    bytesName: options.limitName ?? (options.maxBytes === undefined ? 'HTTP_MAX_BODY_BYTES' : "this route's limit"),
    depthName: options.maxDepth === undefined ? 'HTTP_MAX_JSON_DEPTH' : "this route's limit",
  }
  for (const key of ['maxBytes', 'maxDepth'] as const) {
    if (!Number.isSafeInteger(limits[key]) || limits[key] < 1) throw new TypeError(`readJson/readBody: ${key} ${JSON.stringify(limits[key])} must be a positive integer`)
  }
  return limits
}

function bodyOf(c: Context<any, any, any>, limits: Limits): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body exceeds ${limits.maxBytes} bytes (${limits.bytesName})`)
  const declared = headerOf(c, 'content-length')
  const length = declared !== undefined && headerOf(c, 'transfer-encoding') === undefined ? Number(declared) : undefined
  if (length !== undefined && length > limits.maxBytes) return Promise.reject(tooLarge())
  const incoming = untouchedIncoming(c)
  return incoming ? readIncoming(incoming, limits.maxBytes, tooLarge, length) : readFetchBody(c.req.raw, limits.maxBytes, tooLarge)
}

async function jsonOf(c: Context<any, any, any>, limits: Limits): Promise<unknown> {
  const type = headerOf(c, 'content-type')
  if (type !== undefined && !JSON_TYPE.test(type)) throw new HttpError(415, `content-type ${JSON.stringify(type)} is not JSON; send application/json`)
  const text = decode(await bodyOf(c, limits))
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; send a JSON value')
  const deepAt = depthExceededAt(text, limits.maxDepth)
  if (deepAt !== -1) throw new HttpError(400, `request body nests deeper than ${limits.maxDepth} levels at position ${deepAt} (${limits.depthName})`)
  try {
    return JSON.parse(text)
  } catch (error) {
    // V8 names the position, or quotes the text around the fault, in its message.
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`)
  }
}

/** The Node request behind `c`, when @hono/node-server passed it and nobody has read from it yet. */
function untouchedIncoming(c: Context<any, any, any>): IncomingMessage | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming
  if (!incoming || typeof incoming.on !== 'function') return undefined
  // Once the Fetch body has started reading, its stream owns the data events.
  return incoming.readableFlowing === null && !incoming.readableDidRead ? incoming : undefined
}

/** A request header (lower-case name), from the Node request when there is one. */
function headerOf(c: Context<any, any, any>, name: string): string | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming
  if (!incoming || typeof incoming.headers !== 'object') return c.req.header(name)
  const value = incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** `length`: the declared Content-Length, when the body is framed by one. */
async function readIncoming(incoming: IncomingMessage, maxBytes: number, tooLarge: () => HttpError, length?: number): Promise<Buffer> {
  if (incoming.readableEnded) return Buffer.alloc(0)
  // A small body usually arrives in the same read as its headers. The parser emits the request
  // at the end of the headers and hands over the rest of that read after the handler returns,
  // so one microtask later such a body waits whole in the stream's buffer (all its declared
  // bytes, or a chunked body whose end was parsed): taken at once, with no listeners to add and
  // remove. Bytes past the declared length belong to the next request and are never here.
  await Promise.resolve()
  if (!incoming.readableDidRead && incoming.readableFlowing === null && (incoming.complete || (length !== undefined && incoming.readableLength === length))) {
    if (incoming.readableLength > maxBytes) throw tooLarge()
    const body = incoming.readableLength === 0 ? Buffer.alloc(0) : ((incoming.read() as Buffer | null) ?? Buffer.alloc(0))
    // Flowing from here, the stream emits its 'end' as soon as the parser reaches it, so the
    // server sees the body consumed and has no leftover to drain after the response.
    incoming.resume()
    return body
  }
  // What the listeners below would have heard during that microtask (a parse error destroys the socket on nextTick).
  if (incoming.errored) throw new HttpError(400, `reading the request body failed: ${(incoming.errored as Error).message}`)
  if (incoming.destroyed) throw new HttpError(400, 'the request was aborted while its body was read')
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (error?: Error) => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
      incoming.off('close', onClose)
      if (error) reject(error)
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      // The server discards the rest after the response (bounded by @hono/node-server's drain).
      if (size > maxBytes) return done(tooLarge())
      chunks.push(chunk)
    }
    const onEnd = () => done()
    const onError = (error: Error) => done(new HttpError(400, `reading the request body failed: ${error.message}`))
    const onClose = () => done(new HttpError(400, 'the request was aborted while its body was read'))
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
    incoming.on('close', onClose)
  })
}

async function readFetchBody(request: Request, maxBytes: number, tooLarge: () => HttpError): Promise<Buffer> {
  if (!request.body) return Buffer.alloc(0)
  if (request.bodyUsed) throw new Error('readBody: the request body was already read')
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, size)
}

/** UTF-8 without a leading byte order mark, as Fetch's `text()` decodes. */
function decode(bytes: Buffer): string {
  const text = bytes.toString('utf8')
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}
