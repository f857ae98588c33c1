// WebSocket as a kernel protocol: ctx.ws, routes by path on the HTTP(S) upgrade; a replaced
// generation's clients are told to reconnect (1012); a stop says "going away" (1001).
import type { Claim } from '../claims.ts'
import { PluginError } from '../errors.ts'
import type { Generation } from '../generation.ts'
import { Phase, type PluginWs } from '../plugin.ts'
import { perGeneration, type Binding, type Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import { normalizeBase } from './route-base.ts'
import { sendToSocket } from './stream-writer.ts'
import type { WsGateway, WsOwner } from './ws.ts'

export class WsProtocol implements Protocol {
  readonly name = 'ws'
  readonly #part = perGeneration<WsOwner>((gen) => ({ name: gen.name, log: gen.log, routes: new Map(), sockets: new Set() }))

  constructor(
    readonly gateway: WsGateway,
    readonly stopTimeoutMs: number,
  ) {}

  context({ gen, duringSetup }: Binding): { ws: PluginWs } {
    const routes = this.#part(gen).routes
    return {
      ws: {
        route(path, onConnection, options = {}) {
          duringSetup('ctx.ws.route')
          if (typeof path !== 'string' || !path.startsWith('/')) throw new PluginError(gen.name, `ctx.ws.route: path ${JSON.stringify(path)} must start with /`)
          const base = normalizeBase(options.base ?? `/${gen.name}`, gen.name)
          const full = path === '/' ? base : (base === '/' ? '' : base) + path
          if (routes.has(full)) throw new PluginError(gen.name, `ctx.ws.route: ${full} registered twice`)
          routes.set(full, onConnection)
        },
        send: sendToSocket,
      },
    }
  }

  /** Open WebSocket connections a generation accepted. */
  clients(gen: Generation): number {
    return this.#part(gen).sockets.size
  }

  claims(gen: Generation): Claim[] {
    return [...this.#part(gen).routes.keys()].map((key) => ({ kind: 'WebSocket path', key }))
  }

  update(current: Generation[]): void {
    this.gateway.update(current.map(this.#part))
  }

  retire(gen: Generation, drainMs: number): Promise<void> {
    return this.gateway.closeGeneration(this.#part(gen), drainMs)
  }

  stopEntries(running: Generation[]): StopEntry[] {
    if (this.gateway.clients === 0 && !running.some((g) => this.#part(g).routes.size > 0)) return []
    return [{ id: 'ws', phase: Phase.Ingress, timeoutMs: this.stopTimeoutMs, fn: () => this.gateway.stop(), force: () => this.gateway.force() }]
  }

  describe(gen: Generation): Record<string, unknown> {
    return { websockets: [...this.#part(gen).routes.keys()] }
  }
}
