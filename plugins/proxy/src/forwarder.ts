// Forwards one HTTP request, or one upgrade, to the targets of a route: streaming both ways,
// retrying another target only while nothing of the request body has been sent, under a
// connect timeout (then the next target) and a response timeout (504). Requests go through
// one undici connection pool per target; upgrades open a connection of their own.
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { context, propagation, trace, type Context } from '@opentelemetry/api'
import { Pool, type Dispatcher } from 'undici'
import { Balancer } from './balancer.ts'
import { endToEndRaw, upstreamRequestHeaders } from './headers.ts'
import type { RouteMatch } from './route-table.ts'

/** What forwarding needs of a route match: the targets to try, and the path each receives. */
export type ForwardMatch = { route: Pick<RouteMatch['route'], 'balancer'>; upstreamPath: RouteMatch['upstreamPath'] }

export interface ForwardToOptions {
  /** Time from the request being sent to the response headers; past it the caller gets 504. Default: the forwarder's. */
  responseTimeoutMs?: number
}

export interface ForwarderOptions {
  /** Time to open a connection to one target before trying the next. */
  connectTimeoutMs: number
  /** Time from the request being sent to the response headers; past it the caller gets 504. */
  responseTimeoutMs: number
  /** Largest request body forwarded; larger ones answer 413. */
  maxBodyBytes: number
}

type Outcome =
  | { kind: 'answered' }
  /** Nothing reached the upstream: another target may be tried. */
  | { kind: 'unreachable'; reason: string }
  /** A pooled connection closed by the upstream as it was reused: try again, the target is not at fault. */
  | { kind: 'stale'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'timeout'; reason: string }
  /** The caller went away or was already answered (413): nothing more to send. */
  | { kind: 'done' }

/** Methods a proxy may send twice (RFC 9110 section 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
/** Errors of a pooled connection that the upstream closed as it was reused. */
const STALE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'])

/** The target whose answer each response carries, set as its head is written. */
const answering = new WeakMap<ServerResponse, URL>()

/** The target that answered `res`, once its head is out; undefined when the proxy answered itself. */
export function answeredBy(res: ServerResponse): URL | undefined {
  return answering.get(res)
}

class AttemptTimeout extends Error {
  constructor(
    readonly stage: 'connect' | 'response',
    ms: number,
  ) {
    super(`${stage === 'connect' ? 'no connection' : 'no response'} within ${ms} ms`)
  }
}

export class Forwarder {
  readonly options: ForwarderOptions
  // One keep-alive pool per target origin: reusing connections is most of a proxy's speed.
  readonly #pools = new Map<string, Pool>()

  constructor(options: ForwarderOptions) {
    this.options = options
  }

  /**
   * Forwards one request to one URL: the URL's path and query are sent as they are (the
   * caller's path is not added). Streaming, retries of a stale pooled connection, 413, and the
   * 502/504 answers are those of a route with that single target. No allow-list is applied.
   */
  forwardTo(req: IncomingMessage, res: ServerResponse, target: URL | string, options: ForwardToOptions = {}): Promise<void> {
    const url = new URL(target)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`forward: ${url.protocol} targets are not supported, only http: and https:`)
    const path = (url.pathname || '/') + url.search
    const match: ForwardMatch = { route: { balancer: new Balancer([url.origin], 0) }, upstreamPath: () => path }
    // Called from a plugin's handler: the span active there (a kernel request span, when tracing is on) becomes the upstream's parent.
    return this.forward(req, res, match, options.responseTimeoutMs, context.active())
  }

  /**
   * Resolves once an answer is under way or an error was answered; `answeredBy(res)` names the target.
   * With a `parent` context holding a span, the upstream gets that span's `traceparent`; otherwise the
   * caller's own trace headers go through as they came.
   */
  async forward(req: IncomingMessage, res: ServerResponse, match: ForwardMatch, responseTimeoutMs = this.options.responseTimeoutMs, parent?: Context): Promise<void> {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > this.options.maxBodyBytes) {
      return sendError(res, 413, `request body of ${declared} bytes is larger than the limit of ${this.options.maxBodyBytes} bytes (option maxBodyBytes)`, true)
    }
    const { balancer } = match.route
    const tried: string[] = []
    let staleRetries = 2
    for (const target of balancer.plan()) {
      let outcome = await this.#attempt(req, res, target, match, responseTimeoutMs, parent)
      if (outcome.kind === 'stale' && staleRetries-- > 0) outcome = await this.#attempt(req, res, target, match, responseTimeoutMs, parent)
      if (outcome.kind === 'answered') return balancer.succeeded(target)
      if (outcome.kind === 'done') return
      balancer.failed(target, outcome.reason)
      tried.push(`${target.origin} (${outcome.reason})`)
      if (outcome.kind === 'timeout') return sendError(res, 504, `upstream ${target.origin} did not answer ${req.method} ${req.url}: ${outcome.reason}`)
      if (outcome.kind === 'failed') break
    }
    sendError(res, 502, `no upstream answered ${req.method} ${req.url}; tried ${tried.join(', ')}`)
  }

  #pool(target: URL): Pool {
    let pool = this.#pools.get(target.origin)
    if (!pool) {
      const { connectTimeoutMs, responseTimeoutMs } = this.options
      pool = new Pool(target.origin, {
        connections: 256,
        pipelining: 1,
        connect: { timeout: connectTimeoutMs },
        headersTimeout: responseTimeoutMs,
        // Once the head is out the body may take as long as it takes (event streams, downloads).
        bodyTimeout: 0,
      })
      this.#pools.set(target.origin, pool)
    }
    return pool
  }

  #attempt(req: IncomingMessage, res: ServerResponse, target: URL, match: ForwardMatch, responseTimeoutMs: number, parent: Context | undefined): Promise<Outcome> {
    const { connectTimeoutMs, maxBodyBytes } = this.options
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined
    const method = req.method ?? 'GET'
    return new Promise<Outcome>((resolve) => {
      let settled = false
      let connected = false
      let bodyStarted = false
      let abort: ((reason?: Error) => void) | undefined
      let resume: (() => void) | undefined
      let waitingForDrain = false
      const onDrain = () => {
        waitingForDrain = false
        resume?.()
      }
      const finish = (outcome: Outcome) => {
        if (settled) return
        settled = true
        resolve(outcome)
      }
      const onCallerGone = () => {
        if (res.writableFinished) return
        abort?.(new Error('the caller went away'))
        finish({ kind: 'done' })
      }
      res.once('close', onCallerGone)

      // An async iterable (accepted by undici, though its types leave it out), pulled by the
      // pool only once a connection is open; it leaves `req` readable when it
      // stops early, so a 413 can still be written.
      const body = hasBody
        ? (async function* () {
            bodyStarted = true
            let bytes = 0
            for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
              bytes += chunk.length
              if (bytes > maxBodyBytes) {
                sendError(res, 413, `request body is larger than the limit of ${maxBodyBytes} bytes (option maxBodyBytes)`, true)
                finish({ kind: 'done' })
                throw new Error('request body over the limit')
              }
              yield chunk
            }
          })()
        : null

      const handler: Dispatcher.DispatchHandler = {
        onConnect(abortRequest) {
          abort = abortRequest
          connected = true
          if (settled) abortRequest(new Error('the caller went away'))
        },
        onHeaders(statusCode, rawHeaders, resumeReading, statusText) {
          if (settled) return false
          resume = resumeReading
          answering.set(res, target)
          res.writeHead(statusCode, statusText || undefined, endToEndRaw(rawHeaders as unknown as Buffer[]))
          finish({ kind: 'answered' })
          return true
        },
        onData(chunk) {
          if (res.write(chunk)) return true
          if (!waitingForDrain) {
            waitingForDrain = true
            res.once('drain', onDrain)
          }
          return false
        },
        onComplete() {
          res.off('close', onCallerGone)
          res.end()
        },
        onError(error: Error & { code?: string }) {
          res.off('close', onCallerGone)
          // A break in the upstream body can only be passed on by breaking the caller's connection.
          if (settled) return void (res.headersSent && !res.writableFinished && res.destroy())
          const code = error.code
          if (code === 'UND_ERR_HEADERS_TIMEOUT') return finish({ kind: 'timeout', reason: `no response within ${responseTimeoutMs} ms` })
          if (code === 'UND_ERR_CONNECT_TIMEOUT') return finish({ kind: 'unreachable', reason: `no connection within ${connectTimeoutMs} ms` })
          const reason = code ?? error.message
          if (!connected) return finish({ kind: 'unreachable', reason })
          if (!bodyStarted && STALE.has(code ?? '') && IDEMPOTENT.has(method)) return finish({ kind: 'stale', reason })
          finish({ kind: bodyStarted ? 'failed' : 'unreachable', reason })
        },
      }

      const headers = upstreamRequestHeaders(req, target)
      // The caller's `Expect: 100-continue` was answered by this server already.
      delete headers.expect
      if (parent !== undefined && trace.getSpanContext(parent) !== undefined) propagation.inject(parent, headers)
      this.#pool(target).dispatch(
        {
          origin: target.origin,
          method: method as Dispatcher.HttpMethod,
          path: match.upstreamPath(target),
          headers: headers as Record<string, string | string[]>,
          body: body as unknown as Dispatcher.DispatchOptions['body'],
          headersTimeout: responseTimeoutMs,
        },
        handler,
      )
    })
  }

  /** Tunnels an upgrade (WebSocket) to the first target that accepts the connection. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, match: RouteMatch, onTunnel: (client: Duplex, upstream: Socket) => void): Promise<void> {
    const { balancer } = match.route
    const tried: string[] = []
    socket.on('error', () => socket.destroy())
    for (const target of balancer.plan()) {
      const outcome = await this.#attemptUpgrade(req, socket, head, target, match, onTunnel)
      if (outcome.kind === 'answered') return balancer.succeeded(target)
      if (outcome.kind === 'done') return
      balancer.failed(target, outcome.reason)
      tried.push(`${target.origin} (${outcome.reason})`)
      if (outcome.kind === 'timeout') return rawError(socket, 504, `upstream ${target.origin} did not answer the upgrade: ${outcome.reason}`)
      if (outcome.kind === 'failed') break
    }
    rawError(socket, 502, `no upstream accepted the upgrade of ${req.url}; tried ${tried.join(', ')}`)
  }

  #attemptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, match: RouteMatch, onTunnel: (client: Duplex, upstream: Socket) => void): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const headers = upstreamRequestHeaders(req, target)
      headers.connection = 'Upgrade'
      headers.upgrade = req.headers.upgrade
      const upstream = this.#request(req, target, match.upstreamPath(target), headers)
      const timers = attemptTimers(upstream, this.options.connectTimeoutMs, this.options.responseTimeoutMs)
      let settled = false
      const finish = (outcome: Outcome) => {
        if (settled) return
        settled = true
        timers.clear()
        socket.off('close', onCallerGone)
        resolve(outcome)
      }
      const onCallerGone = () => {
        upstream.destroy()
        finish({ kind: 'done' })
      }
      socket.once('close', onCallerGone)
      timers.onConnected(() => upstream.end())

      upstream.on('upgrade', (answer: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
        timers.clear()
        socket.write(statusLine(answer) + rawHeaderLines(answer.rawHeaders) + '\r\n')
        if (upstreamHead.length) socket.write(upstreamHead)
        if (head.length) upstreamSocket.write(head)
        upstreamSocket.on('error', () => socket.destroy())
        socket.on('error', () => upstreamSocket.destroy())
        upstreamSocket.on('close', () => socket.destroy())
        socket.on('close', () => upstreamSocket.destroy())
        upstreamSocket.pipe(socket).pipe(upstreamSocket)
        onTunnel(socket, upstreamSocket)
        finish({ kind: 'answered' })
      })

      upstream.on('response', (answer: IncomingMessage) => {
        // The upstream refused to switch protocols: pass its answer on and close.
        timers.clear()
        const headers = answer.rawHeaders.filter((_, i, all) => i % 2 === 1 || !['connection', 'transfer-encoding', 'keep-alive'].includes(all[i]!.toLowerCase()))
        const pairs = headers.filter((_, i) => i % 2 === 0).map((k, i) => [k, headers[i * 2 + 1]!])
        socket.write(statusLine(answer) + pairs.map(([k, v]) => `${k}: ${v}\r\n`).join('') + 'connection: close\r\n\r\n')
        answer.pipe(socket)
        finish({ kind: 'answered' })
      })

      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return void socket.destroy()
        const reason = error instanceof AttemptTimeout ? error.message : (error.code ?? error.message)
        if (error instanceof AttemptTimeout && error.stage === 'response') return finish({ kind: 'timeout', reason })
        finish({ kind: timers.connected ? 'failed' : 'unreachable', reason })
      })
    })
  }

  #request(req: IncomingMessage, target: URL, path: string, headers: http.OutgoingHttpHeaders): ClientRequest {
    const secure = target.protocol === 'https:'
    return (secure ? https : http).request({
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || (secure ? 443 : 80),
      method: req.method,
      path,
      headers,
      // An upgraded connection leaves any pool, so it gets a fresh one of its own.
      agent: false,
    })
  }

  /** Closes pooled upstream connections. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((pool) => pool.destroy()))
  }
}

/** Connect and response deadlines for one upstream request; `connected` turns true when its socket is open. */
function attemptTimers(upstream: ClientRequest, connectTimeoutMs: number, responseTimeoutMs: number) {
  let connectTimer: NodeJS.Timeout | undefined = setTimeout(() => upstream.destroy(new AttemptTimeout('connect', connectTimeoutMs)), connectTimeoutMs)
  let responseTimer: NodeJS.Timeout | undefined
  const state = {
    connected: false,
    onConnected(fn: () => void) {
      upstream.once('socket', (socket: Socket) => {
        const go = () => {
          clearTimeout(connectTimer)
          connectTimer = undefined
          state.connected = true
          responseTimer = setTimeout(() => upstream.destroy(new AttemptTimeout('response', responseTimeoutMs)), responseTimeoutMs)
          fn()
        }
        if (socket.connecting) socket.once('connect', go)
        else go()
      })
    },
    clear() {
      clearTimeout(connectTimer)
      clearTimeout(responseTimer)
    },
  }
  return state
}

/** Answers with a JSON error, or breaks the connection when the head is already out. */
export function sendError(res: ServerResponse, status: number, message: string, closeConnection = false): void {
  if (res.headersSent) return void res.destroy()
  if (res.destroyed) return
  const body = JSON.stringify({ error: message })
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(closeConnection ? { connection: 'close' } : {}),
  })
  res.end(body)
}

function rawError(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return
  const body = JSON.stringify({ error: message })
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

function statusLine(answer: IncomingMessage): string {
  return `HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? http.STATUS_CODES[answer.statusCode ?? 502] ?? ''}\r\n`
}

function rawHeaderLines(raw: string[]): string {
  let out = ''
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`
  return out
}
