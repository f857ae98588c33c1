// gRPC and gRPCs as a kernel protocol: ctx.grpc; the server starts when the first generation
// serves a service (after the HTTP listeners), handlers are repointed on every swap, a stop
// ends streams that outlive a grace period with UNAVAILABLE.
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Claim } from '../claims.ts'
import { PluginError } from '../errors.ts'
import type { Generation } from '../generation.ts'
import { Phase, type PluginGrpc } from '../plugin.ts'
import { perGeneration, type Binding, type Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import { endGenerationCalls, loadProto, type GrpcGateway, type GrpcOwner } from './grpc.ts'
import { writeToCall } from './stream-writer.ts'

export class GrpcProtocol implements Protocol {
  readonly name = 'grpc'
  /** Set once the HTTP listeners are open: gRPC never starts before them. */
  open = false
  readonly #part = perGeneration<GrpcOwner>((gen) => ({
    name: gen.name,
    log: gen.log,
    services: [],
    packages: [],
    calls: new Set(),
    enter: () => gen.enter(),
    leave: () => gen.leave(),
  }))

  constructor(
    readonly gateway: GrpcGateway,
    readonly stopTimeoutMs: number,
    /** Called with the bound ports when the server starts. */
    readonly onStart: (addresses: { grpc?: number; grpcs?: number }) => void,
  ) {}

  context({ gen, dir, duringSetup }: Binding): { grpc: PluginGrpc } {
    const part = this.#part(gen)
    return {
      grpc: {
        load(file) {
          duringSetup('ctx.grpc.load')
          const base = existsSync(dir) && statSync(dir).isDirectory() ? dir : dirname(dir)
          const protoDir = join(base, 'proto')
          const files = (Array.isArray(file) ? file : [file]).map((f) => join(protoDir, f))
          for (const f of files) if (!existsSync(f)) throw new PluginError(gen.name, `ctx.grpc.load: ${f} does not exist`)
          const { packageDefinition, grpcObject } = loadProto(files, [protoDir])
          part.packages.push(packageDefinition)
          return grpcObject
        },
        service(definition, implementation) {
          duringSetup('ctx.grpc.service')
          if (!definition || typeof definition !== 'object') throw new PluginError(gen.name, 'ctx.grpc.service: definition must be a service definition (from ctx.grpc.load)')
          for (const [name, method] of Object.entries(definition)) {
            if (typeof implementation[name] !== 'function') throw new PluginError(gen.name, `ctx.grpc.service: no handler for ${method.path}`)
          }
          part.services.push({ definition, implementation })
        },
        write: writeToCall,
      },
    }
  }

  #methods(gen: Generation): string[] {
    return this.#part(gen).services.flatMap(({ definition }) => Object.values(definition).map((m) => m.path))
  }

  claims(gen: Generation): Claim[] {
    return this.#methods(gen).map((key) => ({ kind: 'gRPC method', key }))
  }

  async update(current: Generation[]): Promise<void> {
    const owners = current.map(this.#part)
    this.gateway.update(owners)
    if (!this.gateway.started && this.open && owners.some((o) => o.services.length)) {
      await this.gateway.start()
      this.onStart(this.gateway.addresses)
    }
  }

  abandon(gen: Generation): void {
    endGenerationCalls(this.#part(gen), 'the plugin was reloaded')
  }

  stopping(): void {
    this.gateway.notServing()
  }

  stopEntries(running: Generation[]): StopEntry[] {
    if (!this.gateway.started) return []
    const streamGraceMs = Math.min(5000, Math.floor(this.stopTimeoutMs / 4))
    const owners = running.map(this.#part)
    return [{ id: 'grpc', phase: Phase.Ingress, timeoutMs: this.stopTimeoutMs, fn: () => this.gateway.stop(owners, streamGraceMs), force: () => this.gateway.force() }]
  }

  describe(gen: Generation): Record<string, unknown> {
    return { grpc: this.#methods(gen) }
  }
}
