// WebSocket as a kernel protocol: routes by path on the HTTP(S) upgrade; a replaced
// generation's clients are told to reconnect (1012); a stop says "going away" (1001).
import type { Claim } from '../claims.ts'
import type { Generation } from '../generation.ts'
import { Phase } from '../plugin.ts'
import type { Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import type { WsGateway } from './ws.ts'

export class WsProtocol implements Protocol {
  readonly name = 'ws'

  constructor(
    readonly gateway: WsGateway,
    readonly stopTimeoutMs: number,
  ) {}

  claims(gen: Generation): Claim[] {
    return [...gen.wsRoutes.keys()].map((key) => ({ kind: 'WebSocket path', key }))
  }

  update(current: Generation[]): void {
    this.gateway.update(current)
  }

  retire(gen: Generation, drainMs: number): Promise<void> {
    return this.gateway.closeGeneration(gen, drainMs)
  }

  stopEntries(running: Generation[]): StopEntry[] {
    if (this.gateway.clients === 0 && !running.some((g) => g.wsRoutes.size > 0)) return []
    return [{ id: 'ws', phase: Phase.Ingress, timeoutMs: this.stopTimeoutMs, fn: () => this.gateway.stop(), force: () => this.gateway.force() }]
  }

  describe(gen: Generation): Record<string, unknown> {
    return { websockets: [...gen.wsRoutes.keys()] }
  }
}
