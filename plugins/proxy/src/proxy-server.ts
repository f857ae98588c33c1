// One listener started at run time: its routes, counters, and the drain that stops it
// without failing a request (stop accepting, close idle connections, let in-flight
// requests finish with `Connection: close`, end tunnels, then close).
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { AddressInUseError, InvalidFieldError } from './errors.ts'
import { answeredBy, sendError, type Forwarder } from './forwarder.ts'
import { HealthChecker } from './health-check.ts'
import { RouteTable } from './route-table.ts'
import type { TargetHealth } from './balancer.ts'
import type { PemPair } from './listen-tls.ts'
import { serverOptions, type ListenerLimits } from './listener-limits.ts'
import type { RouteSpec, ServerSpec } from './validation.ts'

export type ServerState = 'starting' | 'running' | 'draining' | 'stopped'

export interface ServerStats {
  connections: number
  inFlight: number
  requests: number
  tunnels: number
}

export interface DrainResult {
  /** Requests that were still running when the drain began, and finished. */
  finished: number
  durationMs: number
  /** True when the timeout passed and the remaining connections were destroyed. */
  forced: boolean
}

/** What a server reports as it works; the plugin turns it into metrics. */
export interface ServerObserver {
  /** A request's answer is complete (or its connection closed first). */
  request(status: number, seconds: number): void
  connection(delta: 1 | -1): void
  tunnel(delta: 1 | -1): void
}

/** One answered request, for the access log. */
export interface AccessEntry {
  server: string
  method: string
  url: string
  status: number
  ms: number
  client: string
  /** The target that answered (its origin), or null when the proxy answered itself (404, 502, 504, 413). */
  upstream: string | null
}

export interface ProxyServerOptions {
  /** How long a failed target is skipped. */
  cooldownMs: number
  /** Serve HTTPS with this certificate and key. */
  tls?: PemPair
  /** Slow-client and connection bounds of the listener. */
  limits: ListenerLimits
  observer?: ServerObserver
  /** Called per request while `spec.accessLog` is on. */
  onAccess?: (entry: AccessEntry) => void
}

export class ProxyServer {
  readonly name: string
  readonly spec: ServerSpec
  state: ServerState = 'starting'
  #routes: RouteTable
  readonly #server: http.Server | https.Server
  readonly #forwarder: Forwarder
  readonly #cooldownMs: number
  readonly #observer: ServerObserver | undefined
  readonly #onAccess: ((entry: AccessEntry) => void) | undefined
  readonly #secure: boolean
  readonly #sockets = new Set<Socket>()
  readonly #tunnels = new Set<Duplex>()
  readonly #responses = new Set<ServerResponse>()
  #checkers: HealthChecker[] = []
  #requests = 0
  #address: AddressInfo | undefined
  #draining: Promise<DrainResult> | undefined

  constructor(spec: ServerSpec, forwarder: Forwarder, options: ProxyServerOptions) {
    this.name = spec.name
    this.spec = spec
    this.#forwarder = forwarder
    this.#cooldownMs = options.cooldownMs
    this.#observer = options.observer
    this.#onAccess = options.onAccess
    this.#secure = options.tls !== undefined
    this.#routes = new RouteTable(spec.routes, this.#cooldownMs)
    const handle = (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res)
    const bounds = serverOptions(options.limits)
    this.#server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key, ...bounds }, handle) : http.createServer(bounds, handle)
    this.#server.maxConnections = options.limits.maxConnections
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head))
    // The TCP socket, also under TLS: destroying it ends the TLS session on top.
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      this.#observer?.connection(1)
      socket.once('close', () => {
        this.#sockets.delete(socket)
        this.#observer?.connection(-1)
      })
    })
    // With a listener here node:http leaves the answer to it, so it gives the statuses node would.
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      // A request timeout can strike while an answer is being written: then only closing is left.
      if (socket.writable && !(socket as Socket & { _httpMessage?: ServerResponse })._httpMessage?.headersSent)
        socket.end(`HTTP/1.1 ${clientErrorStatus(error)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      else socket.destroy()
    })
  }

  /** Starts listening; resolves with the bound address (the real port when 0 was asked). */
  start(): Promise<AddressInfo> {
    const { port, host } = this.spec.listen
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.state = 'stopped'
        reject(listenError(error, host, port))
      }
      this.#server.once('error', onError)
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError)
        this.#address = this.#server.address() as AddressInfo
        this.state = 'running'
        this.#startChecks()
        resolve(this.#address)
      })
    })
  }

  get address(): AddressInfo | undefined {
    return this.#address
  }

  get url(): string | undefined {
    if (!this.#address) return undefined
    const host = this.#address.family === 'IPv6' ? `[${this.#address.address}]` : this.#address.address
    return `${this.#secure ? 'https' : 'http'}://${host}:${this.#address.port}`
  }

  get routes(): readonly RouteSpec[] {
    return this.spec.routes
  }

  /** Serves `pair` to connections from now on; open ones keep the certificate they began with. */
  setCertificate(pair: PemPair): void {
    if (!this.#secure) throw new Error(`proxy server '${this.name}' listens on plain HTTP`)
    ;(this.#server as https.Server).setSecureContext({ cert: pair.cert, key: pair.key })
  }

  /** Swaps the route table; requests already running keep the table they matched. */
  replaceRoutes(routes: RouteSpec[]): void {
    this.#routes = new RouteTable(routes, this.#cooldownMs, this.#routes)
    this.spec.routes = routes
    if (this.state === 'running') this.#startChecks()
  }

  stats(): ServerStats {
    return { connections: this.#sockets.size, inFlight: this.#responses.size, requests: this.#requests, tunnels: this.#tunnels.size }
  }

  health(): Array<{ path: string; targets: TargetHealth[] }> {
    return this.#routes.routes.map((r) => ({ path: r.spec.path, targets: r.balancer.health() }))
  }

  /** Stops gracefully; past `timeoutMs` the remaining connections are destroyed. Calling again returns the same drain. */
  drain(timeoutMs: number): Promise<DrainResult> {
    this.#draining ??= this.#drain(timeoutMs)
    return this.#draining
  }

  /** Destroys every connection at once (the stop deadline passed). */
  force(): void {
    this.#stopChecks()
    this.#server.closeAllConnections()
    for (const socket of this.#sockets) socket.destroy()
    for (const tunnel of this.#tunnels) tunnel.destroy()
  }

  async #drain(timeoutMs: number): Promise<DrainResult> {
    const started = Date.now()
    const finished = this.#responses.size
    if (this.state === 'stopped' || !this.#server.listening) {
      this.state = 'stopped'
      return { finished: 0, durationMs: 0, forced: false }
    }
    this.state = 'draining'
    this.#stopChecks()
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const res of this.#responses) if (!res.headersSent) res.setHeader('connection', 'close')
    this.#server.closeIdleConnections()
    // A tunnel has no request boundary to wait for; ending both halves lets each side close cleanly.
    for (const tunnel of this.#tunnels) tunnel.end()
    let timer: NodeJS.Timeout | undefined
    const overran = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))
    const forced = await Promise.race([closed.then(() => false), overran])
    clearTimeout(timer)
    if (forced) {
      this.force()
      await closed
    }
    this.state = 'stopped'
    return { finished, durationMs: Date.now() - started, forced }
  }

  /** Active checks for the routes that ask for them, replacing those of the previous route table. */
  #startChecks(): void {
    this.#stopChecks()
    for (const route of this.#routes.routes) {
      if (!route.spec.healthCheck) continue
      const checker = new HealthChecker(route.balancer, route.spec.healthCheck)
      checker.start()
      this.#checkers.push(checker)
    }
  }

  #stopChecks(): void {
    for (const checker of this.#checkers) checker.stop()
    this.#checkers = []
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.#requests++
    this.#responses.add(res)
    const logged = this.spec.accessLog === true && this.#onAccess !== undefined
    const started = this.#observer || logged ? performance.now() : 0
    if (this.state === 'draining') res.setHeader('connection', 'close')
    res.once('close', () => {
      this.#responses.delete(res)
      const elapsedMs = this.#observer || logged ? performance.now() - started : 0
      this.#observer?.request(res.statusCode, elapsedMs / 1000)
      if (logged) {
        // Status 499 (nginx's convention): the client went away before its answer was complete.
        const status = res.writableFinished ? res.statusCode : 499
        this.#onAccess!({
          server: this.name,
          method: req.method ?? '',
          url: req.url ?? '',
          status,
          ms: Math.round(elapsedMs * 10) / 10,
          client: req.socket.remoteAddress ?? '',
          upstream: answeredBy(res)?.origin ?? null,
        })
      }
      // The head went out before the drain began, so it promised keep-alive: end the
      // connection now that its answer is complete (unless another request is using it).
      if (this.state === 'draining' && ![...this.#responses].some((other) => other.req.socket === req.socket)) req.socket.end()
    })
    const match = this.#routes.match(req.url ?? '/')
    if (!match) {
      req.resume()
      return sendError(res, 404, `no route of proxy server '${this.name}' matches ${req.url}; routes: ${this.spec.routes.map((r) => r.path).join(', ')}`)
    }
    this.#forwarder.forward(req, res, match).catch((error: Error) => sendError(res, 502, `proxy error: ${error.message}`))
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#requests++
    const match = this.state === 'running' ? this.#routes.match(req.url ?? '/') : undefined
    if (!match) {
      const status = this.state === 'running' ? '404 Not Found' : '503 Service Unavailable'
      return void socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    this.#forwarder
      .upgrade(req, socket, head, match, (client, upstream) => {
        this.#tunnels.add(client)
        this.#observer?.tunnel(1)
        client.once('close', () => {
          this.#tunnels.delete(client)
          this.#observer?.tunnel(-1)
        })
        if (this.state !== 'running') {
          client.end()
          upstream.end()
        }
      })
      .catch(() => socket.destroy())
  }
}

/** A refused listen is the caller's to fix when it names an address or port this machine will not give. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new AddressInUseError(host, port)
    case 'EADDRNOTAVAIL':
      return new InvalidFieldError('listen.host', `${JSON.stringify(host)} is not an address of this machine; use one of its own addresses, 127.0.0.1, ::1 or 0.0.0.0 (all)`)
    case 'EACCES':
      return new InvalidFieldError('listen.port', `port ${port} needs privileges this process does not have; use a port from 1024 up, or 0 for any free port`)
    default:
      return error
  }
}

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADERS_TIMEOUT: '408 Request Timeout',
  ERR_HTTP_HEADERS_TIMEOUT: '408 Request Timeout',
}

function clientErrorStatus(error: NodeJS.ErrnoException): string {
  return CLIENT_ERRORS[error.code ?? ''] ?? '400 Bad Request'
}
