// WebSocket on the HTTP and HTTPS upgrade (ws, noServer), routed by path to the current
// plugin generation, with ping/pong liveness, a cap on bytes waiting for a peer that does not
// read (1008), and a stop that says "going away" (1001).
import type { WsHandler } from '../plugin.ts'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Logger } from 'pino'
import { StreamClosedError } from './stream-writer.ts'

/** A generation's side of the gateway: its routes and the sockets it accepted. */
export interface WsOwner {
  readonly name: string
  /** Full WebSocket path -> handler. */
  readonly routes: Map<string, WsHandler>
  readonly sockets: Set<WebSocket>
  readonly log: Logger
}

export interface WsGatewayOptions {
  log: Logger
  maxPayload: number
  pingIntervalMs: number
  /** Bytes a socket may hold unsent before a send closes it with 1008 (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
}

/** Close codes used by the kernel. */
export const WS_GOING_AWAY = 1001
export const WS_SERVICE_RESTART = 1012
/**
 * A peer that lets more than WS_MAX_BUFFERED_BYTES pile up unread is closed with 1008 (policy
 * violation): the fault is the peer's, and 1013 (try again later) would invite it to reconnect
 * and do the same.
 */
export const WS_NOT_READING = 1008

/** How long a socket closed for not reading may take to finish the close before it is terminated. */
export const OVERFLOW_CLOSE_GRACE_MS = 5000

export class WsGateway {
  readonly wss: WebSocketServer
  #routes = new Map<string, WsOwner>()
  #alive = new WeakMap<WebSocket, boolean>()
  #timer: NodeJS.Timeout
  #stopping = false

  constructor(readonly options: WsGatewayOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, clientTracking: true })
    // Liveness: a peer that did not answer the last ping is terminated.
    this.#timer = setInterval(() => {
      for (const socket of this.wss.clients) {
        if (this.#alive.get(socket) === false) {
          socket.terminate()
          continue
        }
        this.#alive.set(socket, false)
        socket.ping()
      }
    }, options.pingIntervalMs)
    this.#timer.unref()
  }

  get clients(): number {
    return this.wss.clients.size
  }

  /** Repoints paths at the generations now current; called after each swap. */
  update(owners: WsOwner[]): void {
    const routes = new Map<string, WsOwner>()
    for (const owner of owners) for (const path of owner.routes.keys()) routes.set(path, owner)
    this.#routes = routes
  }

  /** Handles an upgrade from the HTTP or HTTPS server. */
  readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '/').split('?')[0]!
    const owner = this.#routes.get(path)
    if (this.#stopping) return reject(socket, 503, 'Service Unavailable')
    if (!owner) return reject(socket, 404, 'Not Found')
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      // The route may have moved to a new generation during the handshake: look it up again.
      const current = this.#routes.get(path)
      if (!current || this.#stopping) {
        ws.close(this.#stopping ? WS_GOING_AWAY : WS_SERVICE_RESTART)
        return
      }
      this.#alive.set(ws, true)
      ws.on('pong', () => this.#alive.set(ws, true))
      capSends(ws, this.options.maxBufferedBytes, (bytes) =>
        current.log.warn(
          `websocket ${path} from ${peerOf(request)} closed with ${WS_NOT_READING}: ${bytes} bytes waiting for a peer that is not reading, over WS_MAX_BUFFERED_BYTES (${this.options.maxBufferedBytes})`,
        ),
      )
      current.sockets.add(ws)
      ws.once('close', () => current.sockets.delete(ws))
      ws.on('error', (error) => current.log.debug(`websocket error on ${path}: ${error.message}`))
      const failed = (error: unknown) => {
        // A send to a socket that is already gone (ctx.ws.send rejecting) ends a handler quietly.
        if (error instanceof StreamClosedError) return current.log.debug(`websocket ${path} ended: ${error.message}`)
        current.log.error(`websocket handler for ${path} failed: ${(error as Error)?.message ?? error}`)
        if (ws.readyState === ws.OPEN) ws.close(1011)
      }
      try {
        const result = current.routes.get(path)!(ws, request)
        if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).catch(failed)
      } catch (error) {
        failed(error)
      }
    })
  }

  /** Shutdown: 1001 to every client, resolved once all have closed. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearInterval(this.#timer)
    await closeAll([...this.wss.clients], WS_GOING_AWAY, 'server shutting down')
  }

  force(): void {
    for (const socket of this.wss.clients) socket.terminate()
  }

  /** A retired generation's clients reconnect to the new code: 1012 (service restart). */
  closeGeneration(owner: WsOwner, timeoutMs: number): Promise<void> {
    const sockets = [...owner.sockets]
    const closed = closeAll(sockets, WS_SERVICE_RESTART, 'plugin reloaded')
    const timer = setTimeout(() => sockets.forEach((s) => s.terminate()), timeoutMs)
    return closed.finally(() => clearTimeout(timer))
  }
}

/**
 * Wraps a socket's send: a send that finds more than `maxBytes` waiting closes the socket with
 * 1008 instead (ws then answers that send's callback with an error), and a peer that does not
 * finish the close within the grace is terminated.
 */
function capSends(socket: WebSocket, maxBytes: number, onOverflow: (bytes: number) => void): void {
  const send = socket.send as (...args: unknown[]) => void
  socket.send = function cappedSend(...args: unknown[]): void {
    if (socket.readyState === socket.OPEN && socket.bufferedAmount > maxBytes) {
      onOverflow(socket.bufferedAmount)
      socket.close(WS_NOT_READING, 'not reading: over WS_MAX_BUFFERED_BYTES')
      const terminate = setTimeout(() => socket.terminate(), OVERFLOW_CLOSE_GRACE_MS)
      terminate.unref()
      socket.once('close', () => clearTimeout(terminate))
    }
    send.apply(socket, args)
  } as WebSocket['send']
}

function closeAll(sockets: WebSocket[], code: number, reason: string): Promise<void> {
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === socket.CLOSED) return resolve()
          socket.once('close', () => resolve())
          socket.close(code, reason)
        }),
    ),
  ).then(() => undefined)
}

function peerOf(request: IncomingMessage): string {
  const { remoteAddress, remotePort } = request.socket
  return remoteAddress?.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}
