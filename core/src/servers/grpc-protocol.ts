// gRPC and gRPCs as a kernel protocol: the server starts when the first generation serves a
// service (after the HTTP listeners), handlers are repointed on every swap, a stop ends
// streams that outlive a grace period with UNAVAILABLE.
import type { Claim } from '../claims.ts'
import type { Generation } from '../generation.ts'
import { Phase } from '../plugin.ts'
import type { Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import { endGenerationCalls, type GrpcGateway } from './grpc.ts'

export class GrpcProtocol implements Protocol {
  readonly name = 'grpc'
  /** Set once the HTTP listeners are open: gRPC never starts before them. */
  open = false

  constructor(
    readonly gateway: GrpcGateway,
    readonly stopTimeoutMs: number,
    /** Called with the bound ports when the server starts. */
    readonly onStart: (addresses: { grpc?: number; grpcs?: number }) => void,
  ) {}

  claims(gen: Generation): Claim[] {
    return gen.grpc.services.flatMap(({ definition }) => Object.values(definition).map((m) => ({ kind: 'gRPC method', key: m.path })))
  }

  async update(current: Generation[]): Promise<void> {
    this.gateway.update(current)
    if (!this.gateway.started && this.open && current.some((g) => g.grpc.services.length)) {
      await this.gateway.start()
      this.onStart(this.gateway.addresses)
    }
  }

  abandon(gen: Generation): void {
    endGenerationCalls(gen, 'the plugin was reloaded')
  }

  stopping(): void {
    this.gateway.notServing()
  }

  stopEntries(running: Generation[]): StopEntry[] {
    if (!this.gateway.started) return []
    const streamGraceMs = Math.min(5000, Math.floor(this.stopTimeoutMs / 4))
    return [{ id: 'grpc', phase: Phase.Ingress, timeoutMs: this.stopTimeoutMs, fn: () => this.gateway.stop(running, streamGraceMs), force: () => this.gateway.force() }]
  }

  describe(gen: Generation): Record<string, unknown> {
    return { grpc: gen.grpc.services.flatMap(({ definition }) => Object.values(definition).map((m) => m.path)) }
  }
}
