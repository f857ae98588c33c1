// Plugin-owned listeners (ctx.net.listen): a TCP port a plugin speaks its own protocol on (the
// pubsub plugin's Kafka port). Opened once, kept across reloads of its plugin, each new
// connection handed to the generation current when it arrives, stopped in its phase.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Claim } from '../claims.ts'
import { PluginError } from '../errors.ts'
import type { Generation } from '../generation.ts'
import { Phase, type PluginContext } from '../plugin.ts'
import { perGeneration, type Binding, type Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'

/** What a generation asked for with ctx.net.listen. */
export interface ListenRequest {
  name: string
  port: number
  host: string
  onConnection(socket: Socket): void
  phase: number
}

interface Open {
  id: string
  plugin: string
  server: Server
  address: AddressInfo
  sockets: Set<Socket>
  request: ListenRequest
  openedBy: Generation
  /** The generation whose handler takes new connections; undefined until its swap. */
  owner: Generation | undefined
  /** Connections that came before the first swap, handed over then. */
  early: Socket[]
}

/** Connections held while a listener's first generation is not yet swapped in. */
const MAX_EARLY = 1024

export class PluginListeners implements Protocol {
  readonly name = 'listeners'
  readonly #open = new Map<string, Open>()
  /** What each generation asked for. */
  readonly #listens = perGeneration<ListenRequest[]>(() => [])

  constructor(
    readonly log: Logger,
    readonly stopTimeoutMs: number,
  ) {}

  context({ gen, duringSetup }: Binding): Pick<PluginContext, 'net'> {
    const listens = this.#listens(gen)
    return {
      net: {
        listen: async (name, options, onConnection) => {
          duringSetup('ctx.net.listen')
          if (typeof name !== 'string' || !/^[a-z0-9-]+$/.test(name)) throw new PluginError(gen.name, `ctx.net.listen: name ${JSON.stringify(name)} must match [a-z0-9-]+`)
          if (!Number.isInteger(options?.port) || options.port < 0 || options.port > 65535)
            throw new PluginError(gen.name, `ctx.net.listen('${name}'): port ${JSON.stringify(options?.port)} is not 0-65535`)
          if (typeof onConnection !== 'function') throw new PluginError(gen.name, `ctx.net.listen('${name}'): onConnection must be a function`)
          if (listens.some((l) => l.name === name)) throw new PluginError(gen.name, `ctx.net.listen('${name}') called twice`)
          const request: ListenRequest = { name, port: options.port, host: options.host ?? '127.0.0.1', onConnection, phase: options.phase ?? Phase.Ingress }
          listens.push(request)
          try {
            return await this.#listen(gen, request)
          } catch (error) {
            throw new PluginError(gen.name, `ctx.net.listen('${name}'): cannot listen on ${request.host}:${request.port}: ${(error as Error).message}`)
          }
        },
      },
    }
  }

  /** Opens the listener (or finds the one an earlier generation opened) and answers its address. */
  async #listen(gen: Generation, request: ListenRequest): Promise<AddressInfo> {
    const id = `${gen.name}:${request.name}`
    const existing = this.#open.get(id)
    if (existing) {
      if (request.port !== 0 && request.port !== existing.address.port)
        this.log.warn(`listener ${id} keeps port ${existing.address.port}; a new port takes effect on the next start`)
      return existing.address
    }
    const open: Open = { id, plugin: gen.name, server: createServer(), address: undefined as never, sockets: new Set(), request, openedBy: gen, owner: undefined, early: [] }
    open.server.on('connection', (socket) => this.#accept(open, socket))
    open.address = await new Promise<AddressInfo>((resolve, reject) => {
      open.server.once('error', reject)
      open.server.listen(request.port, request.host, () => {
        open.server.off('error', reject)
        resolve(open.server.address() as AddressInfo)
      })
    })
    this.#open.set(id, open)
    this.log.info(`plugin listener ${id} listening on ${open.address.address}:${open.address.port}`)
    return open.address
  }

  claims(gen: Generation): Claim[] {
    return this.#listens(gen).map((l) => ({ kind: 'listener', key: l.name }))
  }

  /** New connections go to the current generation's handler; listeners no generation asks for any more close. */
  update(current: Generation[]): void {
    const wanted = new Set<string>()
    for (const gen of current) {
      for (const request of this.#listens(gen)) {
        const open = this.#open.get(`${gen.name}:${request.name}`)
        if (!open) continue
        wanted.add(open.id)
        open.owner = gen
        open.request = request
        for (const socket of open.early.splice(0)) this.#hand(open, socket)
      }
    }
    // A listener of a plugin that is gone, or whose new code no longer asks for it, closes.
    for (const open of this.#open.values()) if (!wanted.has(open.id)) void this.#close(open, false)
  }

  /** A generation that opened a listener and never served (its setup failed) closes it again. */
  async released(gen: Generation): Promise<void> {
    for (const open of [...this.#open.values()]) if (!open.owner && open.openedBy === gen) await this.#close(open, false)
  }

  stopEntries(): StopEntry[] {
    return [...this.#open.values()].map((open) => ({
      id: `listener:${open.id}`,
      phase: open.request.phase,
      timeoutMs: this.stopTimeoutMs,
      fn: () => this.#close(open, false),
      force: () => void this.#close(open, true),
    }))
  }

  describe(gen: Generation): Record<string, unknown> {
    const listeners = this.#listens(gen).flatMap((l) => {
      const open = this.#open.get(`${gen.name}:${l.name}`)
      return open ? [{ name: l.name, address: `${open.address.address}:${open.address.port}` }] : []
    })
    return listeners.length ? { listeners } : {}
  }

  #accept(open: Open, socket: Socket): void {
    open.sockets.add(socket)
    socket.once('close', () => open.sockets.delete(socket))
    socket.on('error', (error) => this.log.debug(`listener ${open.id}: ${error.message}`))
    if (open.owner) return this.#hand(open, socket)
    if (open.early.length >= MAX_EARLY) return void socket.destroy()
    socket.pause()
    open.early.push(socket)
  }

  #hand(open: Open, socket: Socket): void {
    try {
      open.request.onConnection(socket)
      socket.resume()
    } catch (error) {
      open.owner?.log.error(`listener ${open.request.name}: connection handler failed: ${(error as Error).message}`)
      socket.destroy()
    }
  }

  /** Stops accepting; open connections are ended (destroyed when forced) and waited for. */
  async #close(open: Open, force: boolean): Promise<void> {
    this.#open.delete(open.id)
    const closed = new Promise<void>((resolve) => open.server.close(() => resolve()))
    for (const socket of [...open.sockets, ...open.early.splice(0)]) {
      if (force) socket.destroy()
      else socket.end()
    }
    await closed
  }
}
