// A TCP proxy that fault tests put between a client and a real server (RabbitMQ, Redis,
// PostgreSQL, gRPC) to cut and restore the network without touching the server itself.
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** Client connections open through the proxy now. */
  readonly connections: number
  /** Destroys every open connection and refuses new ones until `restore()`. */
  cut(): void
  restore(): void
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>
}

export interface TcpProxyOptions {
  /** Port to listen on; default an ephemeral one. */
  port?: number
  /** Address to listen on; default 127.0.0.1. */
  host?: string
}

export async function startTcpProxy(target: { host: string; port: number }, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const host = options.host ?? '127.0.0.1'
  const clients = new Set<Socket>()
  const upstreams = new Set<Socket>()
  let refusing = false
  let closed: Promise<void> | undefined

  // A destroyed peer raises ECONNRESET/EPIPE on its partner; that is the point of a cut, not an error.
  const track = (set: Set<Socket>, socket: Socket) => {
    set.add(socket)
    socket.on('close', () => set.delete(socket))
    socket.on('error', () => {})
  }

  const server: Server = createServer((client) => {
    if (refusing) return void client.on('error', () => {}).destroy()
    track(clients, client)
    const upstream = connect(target.port, target.host)
    track(upstreams, upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    // Either side going away takes the other with it, as a real network path would.
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })

  const destroyAll = () => {
    for (const socket of [...clients, ...upstreams]) socket.destroy()
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as { port: number }).port

  return {
    host,
    port,
    get connections() {
      return clients.size
    },
    cut() {
      refusing = true
      destroyAll()
    },
    restore() {
      if (!closed) refusing = false
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        refusing = true
        destroyAll()
        server.close(() => resolve())
      })
      return closed
    },
  }
}
