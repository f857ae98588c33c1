// HTTP and HTTPS listeners over one request handler, with a graceful stop:
// stop accepting, let in-flight requests finish with `Connection: close`, close idle
// keep-alive sockets at once, destroy what is left when forced.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { HttpLimits } from '../config.ts'

type Listener = (req: IncomingMessage, res: ServerResponse) => void
/** @hono/node-server's request listener: it answers its own errors, so its promise only says it is done. */
type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null }

export interface TlsFiles {
  cert: string | Buffer
  key: string | Buffer
}

export class HttpListener {
  readonly server: Server
  #stopping = false
  #onEmpty: (() => void) | undefined
  readonly #sockets = new Set<HttpSocket>()
  readonly #backlog: number

  constructor(
    readonly name: 'http' | 'https',
    listener: RequestListener,
    limits: HttpLimits,
    tls?: TlsFiles,
  ) {
    // Nothing is tracked per request (the hot path): a stop inspects the sockets instead.
    const handle: Listener = (req, res) => {
      if (this.#stopping) this.#closeAfter(res)
      void listener(req, res)
    }
    const options = {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts on this interval (30 s by default, which let a trickling
      // client hold a socket for far longer than the limits say).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      // HTTP/1.0 requests may omit Host; the kernel routes by path alone.
      requireHostHeader: false,
    }
    this.server = tls ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, handle) : createHttpServer(options, handle)
    this.server.maxConnections = limits.maxConnections
    this.#backlog = limits.backlog
    // Over TLS the request's socket is the TLSSocket, so that is the one to track.
    this.server.on(tls ? 'secureConnection' : 'connection', (socket: HttpSocket) => {
      this.#sockets.add(socket)
      socket.once('close', () => {
        this.#sockets.delete(socket)
        if (this.#sockets.size === 0) this.#onEmpty?.()
      })
    })
    // A client error (bad request line, oversized headers, a timeout, TLS garbage) answers
    // with its own status and never reaches a plugin.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (socket.writable && !(socket as HttpSocket)._httpMessage?.headersSent) socket.end(clientErrorResponse(error.code))
      else socket.destroy()
    })
  }

  /** Hands upgrade requests to `handler`; the socket then belongs to it, not to this listener. */
  onUpgrade(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void {
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#sockets.delete(socket as HttpSocket)
      handler(req, socket, head)
    })
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error)
      this.server.once('error', onError)
      // Node's default backlog (511) drops SYNs when a thousand clients connect at once.
      this.server.listen({ port, host, backlog: this.#backlog }, () => {
        this.server.off('error', onError)
        resolve(this.server.address() as AddressInfo)
      })
    })
  }

  /**
   * Resolves when every HTTP connection has closed; in-flight requests complete first.
   * Upgraded (WebSocket) sockets are not waited for: their gateway closes them.
   */
  stop(): Promise<void> {
    this.#stopping = true
    this.server.close()
    const closed = new Promise<void>((resolve) => {
      if (this.#sockets.size === 0) return resolve()
      this.#onEmpty = resolve
    })
    for (const socket of this.#sockets) {
      const res = socket._httpMessage
      // Idle keep-alive sockets close now; busy ones close once their response is out.
      if (!res) socket.destroy()
      else this.#closeAfter(res)
    }
    return closed
  }

  /** Past the deadline: drop every connection still open. */
  force(): void {
    this.server.closeAllConnections()
    for (const socket of this.#sockets) socket.destroy()
  }

  #closeAfter(res: ServerResponse): void {
    // Headers not out yet: they will say `Connection: close` and Node closes the socket after.
    if (!res.headersSent) res.shouldKeepAlive = false
    else res.once('finish', () => res.socket?.end())
  }
}

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADERS_TIMEOUT: '408 Request Timeout',
  ERR_HTTP_HEADERS_TIMEOUT: '408 Request Timeout',
}

function clientErrorResponse(code: string | undefined): string {
  return `HTTP/1.1 ${CLIENT_ERRORS[code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`
}
