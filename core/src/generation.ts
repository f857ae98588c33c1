// One loaded instance of a plugin: its context, routes, stop entries and in-flight count.
// A reload builds a new generation beside the old; the old one drains, then stops.
import type { Logger } from 'pino'
import type { Tracer } from '@opentelemetry/api'
import type { Bundle } from './loader.ts'
import type { HealthStatus, OperationName, PluginContext, PluginDefinition, PluginOperations, StopOptions } from './plugin.ts'
import { Phase } from './plugin.ts'
import type { StopEntry } from './shutdown.ts'
import type { PluginMetrics } from './metrics.ts'
import type { Env } from './config.ts'
import { PluginError } from './errors.ts'
import { parseUses } from './dependencies.ts'
import type { KeptResources } from './kept.ts'
import type { Protocol } from './protocol.ts'
import { setMaxListeners } from 'node:events'

export interface GenerationDeps {
  log: Logger
  metrics: PluginMetrics
  tracer: Tracer
  config: Record<string, unknown>
  env: Env
  kernel: PluginContext['kernel']
  /** Where the plugin's source lives (its proto/ folder is read from here). */
  dir: string
  /** The servers whose parts of ctx (http, ws, grpc, net, queue) this generation gets. */
  protocols: readonly Protocol[]
  /** The API of a plugin this one uses, from the generation being set up beside it or the current one. */
  lookup(name: string): { found: boolean; api: unknown }
  /** The kernel's operations; the generation hands out only those the definition declares. */
  operations: PluginOperations
  /** Resources kept across this plugin's generations (ctx.keep). */
  kept: KeptResources
}

/** The parts of ctx the protocols bind (Protocol.context); the rest is the kernel's own. */
type ProtocolPart = 'http' | 'ws' | 'grpc' | 'net' | 'queue' | 'amqp'

export class Generation {
  readonly abort = new AbortController()
  readonly stops: StopEntry[] = []
  readonly loadedAt = new Date()
  readonly log: Logger
  /** Dependency health this generation reported, by component. */
  readonly health = new Map<string, HealthStatus & { since: Date }>()
  api: unknown
  inflight = 0
  #waiters: Array<() => void> = []
  #sealed = false

  constructor(
    readonly name: string,
    readonly id: number,
    readonly definition: PluginDefinition<any>,
    readonly bundle: Bundle | undefined,
    log: Logger,
  ) {
    this.log = log
    // Every handler of the plugin may listen on its one signal: no listener limit.
    setMaxListeners(0, this.abort.signal)
  }

  enter(): void {
    this.inflight++
  }

  leave(): void {
    if (--this.inflight === 0) {
      for (const wake of this.#waiters.splice(0)) wake()
    }
  }

  /** Resolves true once nothing is in flight, false if the timeout came first. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.#waiters.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  /** Runs the plugin's setup with a context bound to this generation. */
  async setup(deps: GenerationDeps): Promise<void> {
    const ctx = this.#context(deps)
    await this.definition.setup(ctx as PluginContext<any>)
    this.#sealed = true
    for (const protocol of deps.protocols) protocol.setUp?.(this)
  }

  #context(deps: GenerationDeps): PluginContext {
    const gen = this
    const { required, optional } = parseUses(this.definition.uses)
    const uses = new Set([...required, ...optional])
    const duringSetup = (what: string) => {
      if (gen.#sealed) throw new PluginError(gen.name, `${what} is only allowed during setup`)
    }
    const ctx: Omit<PluginContext, ProtocolPart> & Record<string, unknown> = {
      name: this.name,
      generation: this.id,
      config: Object.freeze({ ...deps.config }) as PluginContext['config'],
      log: this.log,
      signal: this.abort.signal,
      metrics: deps.metrics,
      tracer: deps.tracer,
      kernel: deps.kernel,
      env: deps.env,
      health: {
        report(component, status) {
          if (typeof component !== 'string' || !component) throw new PluginError(gen.name, 'ctx.health.report: component must be a non-empty string')
          const ok = Boolean(status?.ok)
          const reason = ok ? undefined : String(status?.reason ?? 'not ok')
          const before = gen.health.get(component)
          if (before && before.ok === ok && before.reason === reason) return
          gen.health.set(component, { ok, ...(reason ? { reason } : {}), since: new Date() })
          // One line per change, not per failing request.
          if (!ok) gen.log.warn(`${component} is not ok: ${reason}`)
          else if (before) gen.log.info(`${component} is ok again`)
        },
      },
      ops: operationsFor(gen, deps.operations, () => gen.#sealed),
      dir: deps.dir,
      async keep(key, open, close, options = {}) {
        if (typeof key !== 'string' || !key) throw new PluginError(gen.name, 'ctx.keep: key must be a non-empty string')
        if (typeof open !== 'function' || typeof close !== 'function') throw new PluginError(gen.name, `ctx.keep('${key}'): open and close must be functions`)
        const id = `${gen.name}\u0000${key}`
        // Registered first, so a setup that fails after this still lets go of it.
        ctx.onStop(`close ${key}`, () => deps.kept.release(id, gen), { phase: Phase.Egress, timeoutMs: 5000, ...options })
        const { value, reused } = await deps.kept.acquire(id, gen, open, close)
        if (reused) gen.log.debug(`ctx.keep('${key}'): the value the previous generation kept`)
        return value
      },
      onStop(name: string, fn: () => unknown, options: StopOptions = {}) {
        if (typeof fn !== 'function') throw new PluginError(gen.name, `onStop('${name}'): fn must be a function`)
        const id = `plugin:${gen.name}:${name}`
        if (gen.stops.some((s) => s.id === id)) throw new PluginError(gen.name, `onStop('${name}') registered twice`)
        const entry: StopEntry = {
          id,
          phase: options.phase ?? Phase.Flush,
          timeoutMs: options.timeoutMs ?? 5000,
          fn,
          ...(options.force ? { force: options.force } : {}),
        }
        gen.stops.push(entry)
        // For resources that end before the generation does (a server deleted at run time).
        return () => {
          const at = gen.stops.indexOf(entry)
          if (at !== -1) gen.stops.splice(at, 1)
        }
      },
      provide(api: unknown) {
        duringSetup('ctx.provide')
        gen.api = api
      },
      use<T>(name: string): T {
        if (!uses.has(name)) {
          throw new PluginError(gen.name, `ctx.use('${name}'): '${name}' is not listed in this plugin's uses [${[...uses].join(', ')}]`)
        }
        const { found, api } = deps.lookup(name)
        if (!found) {
          if (optional.includes(name)) return undefined as T
          throw new PluginError(gen.name, `ctx.use('${name}'): '${name}' is not running`)
        }
        return api as T
      },
    }
    // Each protocol binds its own part (http, ws, grpc, net, queue); none may take a name the kernel's part has.
    for (const protocol of deps.protocols) {
      const part = protocol.context?.({ gen, dir: deps.dir, duringSetup })
      for (const key in part) {
        if (key in ctx) throw new Error(`protocol ${protocol.name} binds ctx.${key}, which is already bound`)
        ctx[key] = (part as Record<string, unknown>)[key]
      }
    }
    return ctx as unknown as PluginContext
  }
}

function operationsFor(gen: Generation, operations: PluginOperations, ready: () => boolean): PluginOperations {
  const declared = new Set<OperationName>(gen.definition.operations ?? [])
  const allowed = <K extends OperationName>(op: K): PluginOperations[K] => {
    if (!declared.has(op)) throw new PluginError(gen.name, `ctx.ops.${op} needs operations: ['${op}'] in definePlugin`)
    // During setup the kernel is busy with this very generation: a reload from here would wait on itself.
    if (!ready()) throw new PluginError(gen.name, `ctx.ops.${op} is only available once setup has returned`)
    return operations[op]
  }
  return {
    reload: (name) => allowed('reload')(name),
    setLogLevel: (level) => allowed('setLogLevel')(level),
    plugins: () => allowed('plugins')(),
  }
}
