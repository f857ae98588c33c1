// HTTP and HTTPS listeners over one request handler, with a graceful stop:
// stop accepting, let in-flight requests finish with `Connection: close`, close idle
// keep-alive sockets at once, destroy what is left when forced.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'

type Listener = (req: IncomingMessage, res: ServerResponse) => void

export interface TlsFiles {
  cert: string | Buffer
  key: string | Buffer
}

export class HttpListener {
  readonly server: Server
  #stopping = false
  /** Requests in flight per socket, so a socket can be closed the moment it goes idle. */
  #active = new Map<Socket, number>()

  constructor(
    readonly name: 'http' | 'https',
    listener: Listener,
    tls?: TlsFiles,
  ) {
    const handle: Listener = (req, res) => {
      const socket = req.socket
      this.#active.set(socket, (this.#active.get(socket) ?? 0) + 1)
      if (this.#stopping) res.shouldKeepAlive = false
      res.once('close', () => this.#requestDone(socket))
      listener(req, res)
    }
    this.server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle) : createHttpServer(handle)
    // Over TLS the request's socket is the TLSSocket, so that is the one to track.
    this.server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.#active.set(socket, 0)
      socket.once('close', () => this.#active.delete(socket))
    })
    // A client error (bad request line, TLS garbage) answers 400 and never reaches a plugin.
    this.server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      else socket.destroy()
    })
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error)
      this.server.once('error', onError)
      this.server.listen(port, host, () => {
        this.server.off('error', onError)
        resolve(this.server.address() as AddressInfo)
      })
    })
  }

  get listening(): boolean {
    return this.server.listening
  }

  get connections(): number {
    return this.#active.size
  }

  /** Resolves when every connection has closed; in-flight requests complete first. */
  stop(): Promise<void> {
    this.#stopping = true
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const [socket, active] of this.#active) {
      if (active === 0) socket.destroy()
    }
    // Responses whose headers are not out yet will say `Connection: close`.
    for (const res of this.#pendingResponses()) res.shouldKeepAlive = false
    return closed
  }

  /** Past the deadline: drop every connection still open. */
  force(): void {
    this.server.closeAllConnections()
    for (const socket of this.#active.keys()) socket.destroy()
  }

  #requestDone(socket: Socket): void {
    const left = (this.#active.get(socket) ?? 1) - 1
    if (!this.#active.has(socket)) return
    this.#active.set(socket, left)
    // After a stop began, a socket whose last response went out is closed, not kept alive.
    if (this.#stopping && left === 0) socket.end()
  }

  *#pendingResponses(): Iterable<ServerResponse> {
    for (const socket of this.#active.keys()) {
      const res = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
      if (res && !res.headersSent) yield res
    }
  }
}
