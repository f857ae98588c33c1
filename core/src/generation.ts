// One loaded instance of a plugin: its context, routes, stop entries and in-flight count.
// A reload builds a new generation beside the old; the old one drains, then stops.
import { Hono } from 'hono'
import type { Logger } from 'pino'
import type { Tracer } from '@opentelemetry/api'
import type { Bundle } from './loader.ts'
import type { HealthStatus, OperationName, PluginContext, PluginDefinition, PluginOperations, StopOptions } from './plugin.ts'
import { Phase } from './plugin.ts'
import type { StopEntry } from './shutdown.ts'
import type { PluginMetrics } from './metrics.ts'
import type { Env } from './config.ts'
import { isErrorStatus, PluginError } from './errors.ts'
import { bodyReaders, type BodyLimits } from './http/body.ts'
import { parseUses } from './dependencies.ts'
import type { KeptResources } from './kept.ts'
import type { ListenRequest, PluginListeners } from './servers/listeners.ts'
import { loadProto, type ActiveCall, type GrpcRegistration } from './servers/grpc.ts'
import type { ErrorAnswer, Interception } from './servers/intercept.ts'
import type { WsHandler } from './plugin.ts'
import { sendToSocket, writeToCall } from './servers/stream-writer.ts'
import type { WebSocket } from 'ws'
import type { QueuePort } from './queue/port.ts'
import { existsSync, statSync } from 'node:fs'
import { setMaxListeners } from 'node:events'
import { dirname, join } from 'node:path'

export interface GenerationDeps {
  log: Logger
  metrics: PluginMetrics
  tracer: Tracer
  config: Record<string, unknown>
  env: Env
  kernel: PluginContext['kernel']
  /** Where the plugin's source lives (its proto/ folder is read from here). */
  dir: string
  /** The kernel's queue port: ctx.queue is bound from it. */
  queue: QueuePort
  /** HTTP_MAX_BODY_BYTES and HTTP_MAX_JSON_DEPTH: the defaults of ctx.http.readJson/readBody. */
  bodyLimits: BodyLimits
  /** The API of a plugin this one uses, from the generation being set up beside it or the current one. */
  lookup(name: string): { found: boolean; api: unknown }
  /** The kernel's operations; the generation hands out only those the definition declares. */
  operations: PluginOperations
  /** Resources kept across this plugin's generations (ctx.keep). */
  kept: KeptResources
  /** Plugin-owned listeners (ctx.net.listen). */
  listeners: PluginListeners
}

export class Generation {
  readonly abort = new AbortController()
  readonly stops: StopEntry[] = []
  /** base path -> the app that serves it (the plugin's app mounted under the base). */
  readonly apps = new Map<string, Hono>()
  readonly loadedAt = new Date()
  readonly log: Logger
  readonly grpc: GrpcRegistration = { services: [], packages: [] }
  readonly grpcCalls = new Set<ActiveCall>()
  /** Full WebSocket path -> handler. */
  readonly wsRoutes = new Map<string, WsHandler>()
  readonly wsSockets = new Set<WebSocket>()
  /**
   * Metric series by path, method and status, so a repeated request finds its series with
   * three lookups of strings it already has. Bounded: cleared when it grows past ROUTE_MEMO_SIZE.
   */
  readonly seriesMemo = new Map<string, Map<string, Map<number, unknown>>>()
  /** Listeners this generation asked for (ctx.net.listen). */
  readonly listens: ListenRequest[] = []
  /** Middleware this generation put in front of routes of any plugin (ctx.http.intercept). */
  readonly intercepts: Interception[] = []
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

  get routes(): string[] {
    return [...this.apps.keys()]
  }

  /** Runs the plugin's setup with a context bound to this generation. */
  async setup(deps: GenerationDeps): Promise<void> {
    const ctx = this.#context(deps)
    await this.definition.setup(ctx as PluginContext<any>)
    this.#sealed = true
    deps.queue.afterSetup(this)
  }

  #context(deps: GenerationDeps): PluginContext {
    const gen = this
    const { required, optional } = parseUses(this.definition.uses)
    const uses = new Set([...required, ...optional])
    const sealed = (what: string) => {
      if (gen.#sealed) throw new PluginError(gen.name, `${what} is only allowed during setup`)
    }
    const queue = deps.queue.bind(this)
    const ctx: PluginContext & Record<string, unknown> = {
      name: this.name,
      generation: this.id,
      config: Object.freeze({ ...deps.config }) as PluginContext['config'],
      log: this.log,
      signal: this.abort.signal,
      metrics: deps.metrics,
      tracer: deps.tracer,
      kernel: deps.kernel,
      env: deps.env,
      http: {
        route(app, options = {}) {
          sealed('ctx.http.route')
          const base = normalizeBase(options.base ?? `/${gen.name}`, gen.name)
          if (gen.apps.has(base)) throw new PluginError(gen.name, `routes already mounted at ${base}`)
          gen.apps.set(base, mount(base, app, gen))
        },
        intercept(pattern, handler, options = {}) {
          sealed('ctx.http.intercept')
          if (typeof pattern !== 'string' || !pattern.startsWith('/')) throw new PluginError(gen.name, `ctx.http.intercept: pattern ${JSON.stringify(pattern)} must start with /`)
          if (pattern === '/_armature' || pattern.startsWith('/_armature/') || ['/healthz', '/readyz', '/metrics'].includes(pattern)) {
            throw new PluginError(gen.name, `ctx.http.intercept: ${pattern} belongs to the kernel`)
          }
          if (typeof handler !== 'function') throw new PluginError(gen.name, 'ctx.http.intercept: middleware must be a function (c, next) => ...')
          const order = options.order ?? 0
          if (!Number.isFinite(order)) throw new PluginError(gen.name, `ctx.http.intercept: order ${JSON.stringify(order)} must be a number`)
          gen.intercepts.push({ pattern, handler, order, owner: gen })
        },
        ...bodyReaders(deps.bodyLimits),
      },
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
      grpc: {
        load(file) {
          sealed('ctx.grpc.load')
          const base = existsSync(deps.dir) && statSync(deps.dir).isDirectory() ? deps.dir : dirname(deps.dir)
          const protoDir = join(base, 'proto')
          const files = (Array.isArray(file) ? file : [file]).map((f) => join(protoDir, f))
          for (const f of files) if (!existsSync(f)) throw new PluginError(gen.name, `ctx.grpc.load: ${f} does not exist`)
          const { packageDefinition, grpcObject } = loadProto(files, [protoDir])
          gen.grpc.packages.push(packageDefinition)
          return grpcObject
        },
        service(definition, implementation) {
          sealed('ctx.grpc.service')
          if (!definition || typeof definition !== 'object') throw new PluginError(gen.name, 'ctx.grpc.service: definition must be a service definition (from ctx.grpc.load)')
          for (const [name, method] of Object.entries(definition)) {
            if (typeof implementation[name] !== 'function') throw new PluginError(gen.name, `ctx.grpc.service: no handler for ${method.path}`)
          }
          gen.grpc.services.push({ definition, implementation })
        },
        write: writeToCall,
      },
      ws: {
        route(path, onConnection, options = {}) {
          sealed('ctx.ws.route')
          if (typeof path !== 'string' || !path.startsWith('/')) throw new PluginError(gen.name, `ctx.ws.route: path ${JSON.stringify(path)} must start with /`)
          const base = normalizeBase(options.base ?? `/${gen.name}`, gen.name)
          const full = path === '/' ? base : (base === '/' ? '' : base) + path
          if (gen.wsRoutes.has(full)) throw new PluginError(gen.name, `ctx.ws.route: ${full} registered twice`)
          gen.wsRoutes.set(full, onConnection)
        },
        send: sendToSocket,
      },
      queue,
      amqp: queue,
      net: {
        async listen(name, options, onConnection) {
          sealed('ctx.net.listen')
          if (typeof name !== 'string' || !/^[a-z0-9-]+$/.test(name)) throw new PluginError(gen.name, `ctx.net.listen: name ${JSON.stringify(name)} must match [a-z0-9-]+`)
          if (!Number.isInteger(options?.port) || options.port < 0 || options.port > 65535)
            throw new PluginError(gen.name, `ctx.net.listen('${name}'): port ${JSON.stringify(options?.port)} is not 0-65535`)
          if (typeof onConnection !== 'function') throw new PluginError(gen.name, `ctx.net.listen('${name}'): onConnection must be a function`)
          if (gen.listens.some((l) => l.name === name)) throw new PluginError(gen.name, `ctx.net.listen('${name}') called twice`)
          const request: ListenRequest = { name, port: options.port, host: options.host ?? '127.0.0.1', onConnection, phase: options.phase ?? Phase.Ingress }
          gen.listens.push(request)
          try {
            return await deps.listeners.listen(gen, request)
          } catch (error) {
            throw new PluginError(gen.name, `ctx.net.listen('${name}'): cannot listen on ${request.host}:${request.port}: ${(error as Error).message}`)
          }
        },
      },
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
        sealed('ctx.provide')
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
    return ctx
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

function normalizeBase(base: string, plugin: string): string {
  if (typeof base !== 'string' || !base.startsWith('/')) throw new PluginError(plugin, `route base ${JSON.stringify(base)} must start with /`)
  const trimmed = base.length > 1 ? base.replace(/\/+$/, '') : base
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed.includes('//')) {
    throw new PluginError(plugin, `route base ${JSON.stringify(base)} may hold only letters, digits, '.', '_', '~', '-' and single '/'`)
  }
  if (trimmed === '/_armature' || trimmed.startsWith('/_armature/')) throw new PluginError(plugin, `route base ${trimmed} is reserved for the kernel`)
  return trimmed
}

/**
 * The route pattern that served a request, for metric labels. Asked of the router after the
 * response (a match costs less than a middleware on every request); undefined when none matched.
 */
export function routeOf(app: Hono, method: string, path: string): string | undefined {
  const matches = (app.router.match(method, path) as unknown as [Array<[[unknown, { path: string; method: string }], unknown]>])[0]
  // Middleware (`use`) is registered for ALL methods and runs first; the first route of the
  // request's own method is the one that answered. Without one, the last match did.
  for (const [[, route]] of matches) if (route.method !== 'ALL') return route.path
  return matches.length ? matches[matches.length - 1]![0][1].path : undefined
}

/** Mounts the plugin's app under its base, with errors logged through the plugin's logger. */
function mount(base: string, app: Hono<any, any, any>, gen: Generation): Hono {
  const wrapper = new Hono()
  wrapper.route(base, app)
  wrapper.onError((error, c) => answerError(error, c, gen.log))
  return wrapper
}

/** A plugin's error as a response: its own (HTTPException), its status (HttpError) as JSON, else a logged 500. */
export const answerError: ErrorAnswer = (error, c, log) => {
  const withResponse = error as Error & { getResponse?: () => Response; status?: unknown; field?: unknown; headers?: unknown }
  if (typeof withResponse.getResponse === 'function') return withResponse.getResponse()
  // HttpError, or any error that says which status it means: answered as JSON with its headers.
  if (isErrorStatus(withResponse.status)) {
    const status = withResponse.status
    // A 500 is a bug and is logged with its stack; 502-504 name an outage or a timeout, which the
    // plugin reports once (ctx.health), so each request that meets it is only a debug line.
    if (status === 500) log.error({ err: error, path: c.req.path }, `${status} in ${c.req.method} ${c.req.path}: ${error.message}`)
    else if (status > 500) log.debug(`${status} in ${c.req.method} ${c.req.path}: ${error.message}`)
    const field = typeof withResponse.field === 'string' ? { field: withResponse.field } : {}
    return c.json({ error: error.message, ...field }, status as 400, headersOf(withResponse.headers))
  }
  log.error({ err: error, path: c.req.path }, `unhandled error in ${c.req.method} ${c.req.path}: ${error.message}`)
  return c.json({ error: 'internal error' }, 500)
}

/** An error's own response headers, when it carries a plain object of strings. */
function headersOf(headers: unknown): Record<string, string> | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined
  const entries = Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
  return entries.length ? Object.fromEntries(entries) : undefined
}
