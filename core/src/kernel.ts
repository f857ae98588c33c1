// The kernel: boots plugins in dependency order, serves them, swaps generations on reload,
// and stops everything through the priority registry.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Logger } from 'pino'
import { loadKernelConfig, resolvePluginConfig, type Env, type KernelConfig, type KernelOverrides } from './config.ts'
import { ConfigError, PluginError, SetupError, errorMessage } from './errors.ts'
import { Generation, answerError } from './generation.ts'
import { Interceptors } from './servers/intercept.ts'
import { HttpDispatcher, type RequestEnv } from './servers/dispatch.ts'
import { QueuePort } from './queue/port.ts'
import { queueProvidersFirst } from './queue/provider.ts'
import { bundle, discover, importPlugin, removeBundle, sourceAt, watchPlugins, checkName, type Bundle, type PluginSource, type Rejected, type Watcher } from './loader.ts'
import { createLog, LOG_LEVELS, type KernelLog } from './log.ts'
import { KernelMetrics } from './metrics.ts'
import { Phase, type PluginDefinition, type PluginOperations } from './plugin.ts'
import { orderByUses, parseUses, usedNames } from './dependencies.ts'
import { phaseLabel, planStop, runStop, type StopEntry, type StopReport } from './shutdown.ts'
import { HttpListener } from './servers/http.ts'
import { GrpcGateway, endGenerationCalls } from './servers/grpc.ts'
import { WsGateway } from './servers/ws.ts'
import { Counter, Gauge } from 'prom-client'
import { devCertificate } from './tls.ts'
import { kernelRoutes } from './admin.ts'
import { startTracing, type Tracing } from './tracing/provider.ts'
import { HttpTracing } from './tracing/http.ts'
import { traceGrpcHandler } from './tracing/grpc.ts'
import { QueueTracing } from './tracing/queue.ts'

export interface KernelOptions {
  cwd?: string
  env?: Env
  configFile?: string
  overrides?: KernelOverrides
  /** Plugin folders or files loaded in addition to the drop-in folder. */
  pluginPaths?: string[]
  /** Scan the drop-in folder (default true). */
  scanPluginsDir?: boolean
  /** Terminal log level (the file always gets the configured level). */
  terminalLogLevel?: string
  prettyLogs?: boolean
}

export type PluginStatus = 'running' | 'failed' | 'stopped'

export interface PluginSlot {
  name: string
  source: PluginSource | undefined
  current: Generation | undefined
  status: PluginStatus
  lastError: string | undefined
  /** Highest generation number handed out. */
  generations: number
  /** What the last prepared definition uses, so a failed plugin can follow its dependencies back up. */
  uses: string[]
  /** A setup that failed is tried again with backoff (an outage of what it needs may end). */
  retry: { attempt: number; timer: NodeJS.Timeout | undefined } | undefined
}

export interface ReloadResult {
  name: string
  status: 'swapped' | 'unchanged' | 'failed' | 'unloaded' | 'missing'
  generation?: number
  error?: string
}

export interface StopPlan {
  deadlineMs: number
  phases: Array<{ phase: number; label: string; entries: Array<{ id: string; timeoutMs: number }> }>
}

interface Prepared {
  source: PluginSource
  bundle: Bundle
  definition: PluginDefinition<any>
}


let kernelCount = 0
/** The longest the Final phase waits for buffered spans to be exported. */
const TRACING_STOP_MS = 5000

export class Kernel {
  readonly config: KernelConfig
  readonly log: Logger
  readonly metrics = new KernelMetrics()
  readonly slots = new Map<string, PluginSlot>()
  readonly rejected: Rejected[] = []
  readonly addresses: { http?: AddressInfo; https?: AddressInfo; grpc?: number; grpcs?: number } = {}
  readonly grpc: GrpcGateway
  readonly ws: WsGateway
  readonly queue: QueuePort
  /** Spans per request, call and message, exported by OTLP; a no-op when no endpoint is configured. */
  readonly tracing: Tracing
  /** The CA that signed the dev certificate, when the kernel made one. */
  devCa: string | undefined
  ready = false
  stopping = false

  readonly #env: Env
  readonly #logSink: KernelLog
  readonly #options: KernelOptions
  readonly #buildDir: string
  readonly #listeners: HttpListener[] = []
  readonly #retiring = new Set<Promise<void>>()
  readonly #http: HttpDispatcher
  #watcher: Watcher | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #stopped: Promise<StopReport> | undefined
  /** Generations set up but not yet swapped in, visible to ctx.use of their dependents. */
  #pending = new Map<string, Generation>()

  constructor(config: KernelConfig, env: Env, options: KernelOptions) {
    this.config = config
    this.#env = env
    this.#options = options
    this.#logSink = createLog({
      level: config.logLevel,
      file: config.logFile,
      ...(options.prettyLogs !== undefined ? { pretty: options.prettyLogs } : {}),
      ...(options.terminalLogLevel ? { terminalLevel: options.terminalLogLevel } : {}),
    })
    this.log = this.#logSink.log
    this.tracing = startTracing(config.tracing, this.log)
    const tracer = this.tracing.enabled ? this.tracing.tracer('armature') : undefined
    this.#http = new HttpDispatcher(this.metrics, tracer && new HttpTracing(tracer))
    // Each kernel bundles into its own folder, so parallel kernels never share a file.
    this.#buildDir = join(config.buildDir, `${process.pid}-${++kernelCount}`)
    const grpcCalls = new Counter({
      name: 'armature_grpc_calls_total',
      help: 'gRPC calls by plugin, method and status code',
      labelNames: ['plugin', 'method', 'code'],
      registers: [this.metrics.registry],
    })
    const slots = this.slots
    // Read at scrape time from the generations' own counters: nothing on the request path.
    new Gauge({
      name: 'armature_in_flight',
      help: 'HTTP requests and gRPC calls in flight, by plugin',
      labelNames: ['plugin'],
      registers: [this.metrics.registry],
      collect() {
        this.reset()
        for (const slot of slots.values()) if (slot.current) this.set({ plugin: slot.name }, slot.current.inflight)
      },
    })
    new Gauge({
      name: 'armature_websocket_clients',
      help: 'Open WebSocket connections, by plugin',
      labelNames: ['plugin'],
      registers: [this.metrics.registry],
      collect() {
        this.reset()
        for (const slot of slots.values()) if (slot.current) this.set({ plugin: slot.name }, slot.current.wsSockets.size)
      },
    })
    this.grpc = new GrpcGateway({
      log: this.log,
      host: config.host,
      port: config.grpcPort,
      tlsPort: config.grpcsPort,
      onCall: (plugin, method, code) => grpcCalls.inc({ plugin, method, code }),
      ...(tracer ? { wrapHandler: (path, type, handler) => traceGrpcHandler(tracer, path, type, handler) } : {}),
    })
    this.queue = QueuePort.fromConfig(config, this.log, tracer && new QueueTracing(tracer))
    this.ws = new WsGateway({ log: this.log, maxPayload: config.wsMaxPayload, pingIntervalMs: config.wsPingIntervalMs })
  }

  // ---- boot ----

  async boot(): Promise<void> {
    sweepStaleBuilds(this.config.buildDir)
    // Connects in the background when the broker is down; publishes wait for it.
    await this.queue.start()
    const sources = this.#sources()
    const prepared = new Map<string, Prepared>()
    await Promise.all(
      sources.map(async (source) => {
        const slot = this.#slot(source.name, source)
        try {
          prepared.set(source.name, await this.#prepare(source, slot.generations + 1))
        } catch (error) {
          this.#fail(slot, error)
        }
      }),
    )
    // Config errors stop the boot before any listener opens.
    const configs = new Map<string, Record<string, unknown>>()
    for (const [name, p] of prepared) configs.set(name, this.#pluginConfig(name, p.definition))

    const byUses = orderByUses(new Map([...prepared].map(([name, p]) => [name, p.definition.uses ?? []])))
    const { errors } = byUses
    const order = queueProvidersFirst(byUses.order, (name) => prepared.get(name)!.definition)
    for (const [name, message] of errors) {
      this.#fail(this.slots.get(name)!, new PluginError(name, message))
      removeBundle(prepared.get(name)!.bundle.file)
    }
    for (const name of order) {
      const p = prepared.get(name)!
      const slot = this.slots.get(name)!
      const blocked = parseUses(p.definition.uses).required.find((dep) => this.slots.get(dep)?.status !== 'running')
      if (blocked) {
        this.#fail(slot, new PluginError(name, `uses '${blocked}', which failed to start`))
        removeBundle(p.bundle.file)
        continue
      }
      try {
        const gen = await this.#setup(slot, p.definition, p.bundle, configs.get(name)!)
        this.#checkMounts([gen])
        this.#swapIn(slot, gen)
        this.log.info(`plugin ${name} ${p.definition.version ?? ''} started (generation ${gen.id})${gen.routes.length ? ` at ${gen.routes.join(', ')}` : ''}`.replace('  ', ' '))
      } catch (error) {
        this.#fail(slot, error)
        if (error instanceof SetupError) this.#scheduleRetry(slot)
      }
    }
    this.#rebuildMounts()
  }

  async listen(): Promise<void> {
    // An HTTP/1.0 request may come without Host; it is served as if for localhost.
    const listener = getRequestListener(this.fetch, { hostname: 'localhost' })
    const tls = await this.#tlsFiles()
    if (tls) this.grpc.options.tls = tls
    const http = new HttpListener('http', listener, this.config.http)
    http.onUpgrade(this.ws.upgrade)
    this.addresses.http = await http.listen(this.config.port, this.config.host)
    this.#listeners.push(http)
    this.log.info(`http listening on http://${hostForUrl(this.addresses.http)}`)

    if (tls) {
      const https = new HttpListener('https', listener, this.config.http, tls)
      https.onUpgrade(this.ws.upgrade)
      this.addresses.https = await https.listen(this.config.httpsPort, this.config.host)
      this.#listeners.push(https)
      this.log.info(`https listening on https://${hostForUrl(this.addresses.https)}`)
    }
    await this.#refreshProtocols()
    if (this.config.watch) await this.#startWatching()
    this.ready = true
    const failed = [...this.slots.values()].filter((s) => s.status === 'failed').map((s) => s.name)
    this.log.info(`ready: ${[...this.slots.values()].filter((s) => s.status === 'running').length} plugins running${failed.length ? `, failed: ${failed.join(', ')}` : ''}`)
  }

  async #tlsFiles(): Promise<{ cert: Buffer; key: Buffer } | undefined> {
    if (this.config.tlsCert && this.config.tlsKey) {
      return { cert: readFileSync(this.config.tlsCert), key: readFileSync(this.config.tlsKey) }
    }
    if (this.config.dev) {
      const pair = await devCertificate(resolve(this.#options.cwd ?? process.cwd(), '.armature/tls'), this.log)
      this.devCa = pair.ca
      return { cert: Buffer.from(pair.cert), key: Buffer.from(pair.key) }
    }
    return undefined
  }

  // ---- HTTP dispatch ----

  /** The kernel's own routes (health, readiness, metrics, admin). */
  readonly app = kernelRoutes(this)

  /** The one HTTP entry point: kernel routes, else the plugin whose base matches. */
  readonly fetch = (request: Request, env?: unknown): Response | Promise<Response> => {
    const path = pathOf(request.url)
    if (isKernelPath(path)) return this.app.fetch(request, env)
    return this.#http.dispatch(request, path, env as RequestEnv | undefined)
  }

  #rebuildMounts(): void {
    const mounts: Array<{ base: string; slot: PluginSlot }> = []
    for (const slot of this.slots.values()) {
      for (const base of slot.current?.routes ?? []) mounts.push({ base, slot })
    }
    this.#http.mount(mounts)
    this.#http.intercept(new Interceptors(this.#current().flatMap((g) => g.intercepts), answerError))
  }

  /** Points the gRPC and WebSocket dispatch at the current generations; starts gRPC on first use. */
  async #refreshProtocols(): Promise<void> {
    const current = this.#current()
    this.ws.update(current)
    this.grpc.update(current)
    if (!this.grpc.started && current.some((g) => g.grpc.services.length) && this.addresses.http) {
      await this.grpc.start()
      this.addresses.grpc = this.grpc.addresses.grpc
      this.addresses.grpcs = this.grpc.addresses.grpcs
    }
  }

  #current(): Generation[] {
    return [...this.slots.values()].flatMap((s) => (s.current ? [s.current] : []))
  }

  /** Refuses a set of new generations whose bases collide with each other or with other plugins. */
  #checkMounts(generations: Generation[]): void {
    const replacing = new Set(generations.map((g) => g.name))
    const owners = new Map<string, string>()
    for (const slot of this.slots.values()) {
      if (replacing.has(slot.name)) continue
      for (const base of slot.current?.routes ?? []) owners.set(base, slot.name)
    }
    for (const gen of generations) {
      for (const base of gen.routes) {
        const owner = owners.get(base)
        if (owner) throw new PluginError(gen.name, `route base ${base} is already claimed by plugin '${owner}'`)
        owners.set(base, gen.name)
      }
    }
    const sockets = new Map<string, string>()
    const methods = new Map<string, string>()
    for (const slot of this.slots.values()) {
      if (replacing.has(slot.name) || !slot.current) continue
      for (const path of slot.current.wsRoutes.keys()) sockets.set(path, slot.name)
      for (const { definition } of slot.current.grpc.services) for (const m of Object.values(definition)) methods.set(m.path, slot.name)
    }
    for (const gen of generations) {
      for (const path of gen.wsRoutes.keys()) {
        const owner = sockets.get(path)
        if (owner) throw new PluginError(gen.name, `WebSocket path ${path} is already claimed by plugin '${owner}'`)
        sockets.set(path, gen.name)
      }
      for (const { definition } of gen.grpc.services) {
        for (const m of Object.values(definition)) {
          const owner = methods.get(m.path)
          if (owner) throw new PluginError(gen.name, `gRPC method ${m.path} is already served by plugin '${owner}'`)
          methods.set(m.path, gen.name)
        }
      }
    }
  }

  // ---- plugin generations ----

  #sources(): PluginSource[] {
    const sources = new Map<string, PluginSource>()
    if (this.#options.scanPluginsDir !== false) {
      const found = discover(this.config.pluginsDir)
      for (const rejected of found.rejected) {
        this.rejected.push(rejected)
        this.log.error(`plugin refused: ${rejected.error}`)
      }
      for (const source of found.sources) sources.set(source.name, source)
    }
    for (const path of this.#options.pluginPaths ?? []) {
      const source = sourceAt(path)
      if (!source) throw new ConfigError('plugins', `${path} is not a plugin (a folder with index.ts or a <name>.ts file)`)
      sources.set(source.name, source)
    }
    return [...sources.values()]
  }

  /** Where a plugin's source is now: an explicit path, or the drop-in folder. */
  #locate(name: string): PluginSource | undefined {
    for (const path of this.#options.pluginPaths ?? []) {
      const source = sourceAt(path)
      if (source?.name === name) return source
    }
    if (this.#options.scanPluginsDir === false) return undefined
    for (const candidate of [join(this.config.pluginsDir, name), ...['.ts', '.mts', '.js', '.mjs'].map((ext) => join(this.config.pluginsDir, name + ext))]) {
      const source = sourceAt(candidate, existsSync(this.config.pluginsDir) ? realpathSafe(this.config.pluginsDir) : undefined)
      if (source) return source
    }
    return undefined
  }

  #slot(name: string, source?: PluginSource): PluginSlot {
    let slot = this.slots.get(name)
    if (!slot) {
      slot = { name, source, current: undefined, status: 'stopped', lastError: undefined, generations: 0, uses: [], retry: undefined }
      this.slots.set(name, slot)
    }
    if (source) slot.source = source
    return slot
  }

  async #prepare(source: PluginSource, generation: number): Promise<Prepared> {
    let built: Bundle
    try {
      built = await bundle(source, this.#buildDir)
    } catch (error) {
      throw new PluginError(source.name, errorMessage(error))
    }
    let definition: PluginDefinition<any>
    try {
      definition = await importPlugin(built.file, generation)
    } catch (error) {
      removeBundle(built.file)
      throw new PluginError(source.name, `import failed: ${errorMessage(error)}`, { cause: error })
    }
    if (definition.name !== source.name) {
      removeBundle(built.file)
      throw new PluginError(source.name, `definePlugin name '${definition.name}' does not match its folder or file name '${source.name}'`)
    }
    this.#slot(source.name).uses = definition.uses ?? []
    return { source, bundle: built, definition }
  }

  #pluginConfig(name: string, definition: PluginDefinition<any>): Record<string, unknown> {
    return resolvePluginConfig(name, definition.config, this.config.plugins[name], this.#env)
  }

  async #setup(slot: PluginSlot, definition: PluginDefinition<any>, built: Bundle | undefined, config: Record<string, unknown>): Promise<Generation> {
    const id = ++slot.generations
    const log = this.log.child({ plugin: slot.name, generation: id })
    const gen = new Generation(slot.name, id, definition, built, log)
    const dataDir = join(this.config.dataDir, slot.name)
    try {
      await gen.setup({
        log,
        metrics: this.metrics.forPlugin(slot.name),
        tracer: this.tracing.tracer(slot.name, definition.version),
        config,
        env: this.#env,
        dir: slot.source?.root ?? this.config.pluginsDir,
        queue: this.queue,
        bodyLimits: { maxBytes: this.config.http.maxBodyBytes, maxDepth: this.config.http.maxJsonDepth },
        kernel: {
          adminToken: this.config.adminToken,
          get dataDir() {
            mkdirSync(dataDir, { recursive: true })
            return dataDir
          },
          dev: this.config.dev,
        },
        lookup: (name) => {
          const provider = this.#pending.get(name) ?? this.slots.get(name)?.current
          return provider ? { found: true, api: provider.api } : { found: false, api: undefined }
        },
        operations: this.#operations,
      })
      return gen
    } catch (error) {
      // Whatever the failed setup registered is released, so a retry starts clean.
      await this.#stopGeneration(gen, 'setup failed')
      if (error instanceof ConfigError) throw error
      throw new SetupError(slot.name, error instanceof PluginError ? error.message.replace(`plugin '${slot.name}': `, '') : `setup failed: ${errorMessage(error)}`, { cause: error })
    }
  }

  #swapIn(slot: PluginSlot, gen: Generation): Generation | undefined {
    const old = slot.current
    slot.current = gen
    slot.status = 'running'
    slot.lastError = undefined
    this.queue.swappedIn(gen)
    return old
  }

  #fail(slot: PluginSlot, error: unknown): void {
    const message = errorMessage(error)
    slot.lastError = message
    if (!slot.current) slot.status = 'failed'
    this.log.error(slot.current ? `${message} (generation ${slot.current.id} keeps serving)` : message)
  }

  /** What a plugin that declares `operations` may ask of the kernel. */
  readonly #operations: PluginOperations = {
    reload: (name) => this.reload(name, { force: true, reason: 'plugin request' }),
    setLogLevel: (level) => {
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError('setLogLevel', `${JSON.stringify(level)} is not a log level (${LOG_LEVELS.join(', ')})`)
      // Said at the old level, so the change is on record even when the new level hides info.
      this.log.info(`log level set to ${level} (was ${this.log.level})`)
      this.#logSink.setLevel(level)
    },
    plugins: () => this.describe(),
  }

  /** Reloads a plugin (and the plugins that use it) on demand or on a file change. */
  reload(name: string, options: { force?: boolean; reason?: string } = {}): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(name, options))
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #reload(name: string, { force = false, reason = 'request' }: { force?: boolean; reason?: string }): Promise<ReloadResult> {
    checkName(name, 'reload')
    if (this.stopping) return { name, status: 'failed', error: 'the kernel is stopping' }
    let source: PluginSource | undefined
    try {
      source = this.#locate(name)
    } catch (error) {
      return this.#reloadFailed(this.#slot(name), error)
    }
    if (!source) return this.slots.has(name) ? this.#unload(name) : { name, status: 'missing' }
    const slot = this.#slot(name, source)
    const started = performance.now()
    let prepared: Prepared
    let config: Record<string, unknown>
    try {
      prepared = await this.#prepare(source, slot.generations + 1)
      if (!force && slot.current && prepared.bundle.hash === slot.current.bundle?.hash) {
        // Back to the code that serves (a broken edit undone): its error is no longer news.
        slot.lastError = undefined
        return { name, status: 'unchanged', generation: slot.current.id }
      }
      config = this.#pluginConfig(name, prepared.definition)
      const missing = parseUses(prepared.definition.uses).required.find((dep) => !this.slots.get(dep)?.current)
      if (missing) throw new PluginError(name, `uses '${missing}', which is not running`)
    } catch (error) {
      return this.#reloadFailed(slot, error)
    }

    // The plugins that use this one get new generations too, wired to the new API.
    const chain = [name, ...this.#dependents(name)]
    const fresh: Generation[] = []
    try {
      for (const member of chain) {
        const memberSlot = this.slots.get(member)!
        const definition = member === name ? prepared.definition : memberSlot.current!.definition
        const memberConfig = member === name ? config : this.#pluginConfig(member, definition)
        const built = member === name ? prepared.bundle : memberSlot.current!.bundle
        const gen = await this.#setup(memberSlot, definition, built, memberConfig)
        fresh.push(gen)
        this.#pending.set(member, gen)
      }
      this.#checkMounts(fresh)
      if (this.stopping) throw new PluginError(name, 'the kernel began stopping during the reload')
    } catch (error) {
      for (const gen of fresh) await this.#stopGeneration(gen, 'reload abandoned')
      if (prepared.bundle !== slot.current?.bundle) removeBundle(prepared.bundle.file)
      return this.#reloadFailed(slot, error)
    } finally {
      for (const member of chain) this.#pending.delete(member)
    }
    // One synchronous block: every dispatch table points at the new generations at once.
    const retired: Generation[] = []
    for (const gen of fresh) {
      const old = this.#swapIn(this.slots.get(gen.name)!, gen)
      if (old) retired.push(old)
    }
    this.#rebuildMounts()
    await this.#refreshProtocols()
    for (const old of retired) this.#retire(old)
    this.metrics.reloads.inc({ plugin: name, result: 'ok' })
    const ms = Math.round(performance.now() - started)
    this.log.info(`plugin ${name} generation ${fresh[0]!.id} swapped in (${reason}, ${ms} ms)${chain.length > 1 ? `; also renewed ${chain.slice(1).join(', ')}` : ''}`)
    for (const member of chain) this.#cancelRetry(this.slots.get(member)!)
    this.#startFailedDependents(chain)
    return { name, status: 'swapped', generation: fresh[0]!.id }
  }

  /** Plugins that failed because something they use was down get set up once it runs. */
  #startFailedDependents(started: string[]): void {
    for (const slot of this.slots.values()) {
      if (slot.current || slot.status !== 'failed' || !usedNames(slot.uses).some((dep) => started.includes(dep))) continue
      const { required } = parseUses(slot.uses)
      if (required.every((dep) => this.slots.get(dep)?.current)) void this.reload(slot.name, { reason: `'${required.join("', '")}' running` })
    }
  }

  /** Tries a failed setup again after a growing delay, a bounded number of times. */
  #scheduleRetry(slot: PluginSlot): void {
    const { retryMs, retryMaxMs, retryAttempts } = this.config.setup
    if (retryMs === 0 || this.stopping || slot.current) return
    const attempt = (slot.retry?.attempt ?? 0) + 1
    if (attempt > retryAttempts) {
      this.log.error(`plugin ${slot.name}: giving up after ${retryAttempts} setup attempts; reload it to try again`)
      slot.retry = undefined
      return
    }
    const wait = Math.min(retryMaxMs, retryMs * 2 ** (attempt - 1))
    this.log.warn(`plugin ${slot.name}: setup attempt ${attempt + 1} of ${retryAttempts + 1} in ${wait} ms`)
    const timer = setTimeout(() => {
      void this.reload(slot.name, { reason: `setup attempt ${attempt + 1}` }).then((result) => {
        if (result.status === 'failed' && this.slots.get(slot.name) === slot && !slot.current) this.#scheduleRetry(slot)
      })
    }, wait)
    timer.unref()
    slot.retry = { attempt, timer }
  }

  #cancelRetry(slot: PluginSlot): void {
    if (slot.retry?.timer) clearTimeout(slot.retry.timer)
    slot.retry = undefined
  }

  #reloadFailed(slot: PluginSlot, error: unknown): ReloadResult {
    this.#fail(slot, error)
    this.metrics.reloads.inc({ plugin: slot.name, result: 'failed' })
    return { name: slot.name, status: 'failed', error: errorMessage(error), ...(slot.current ? { generation: slot.current.id } : {}) }
  }

  /** Running plugins that use `name`, directly or not, in an order where each comes after what it uses. */
  #dependents(name: string): string[] {
    const result: string[] = []
    const visit = (target: string) => {
      for (const slot of this.slots.values()) {
        if (slot.current && usedNames(slot.current.definition.uses).includes(target) && !result.includes(slot.name) && slot.name !== name) {
          result.push(slot.name)
          visit(slot.name)
        }
      }
    }
    visit(name)
    const { order } = orderByUses(new Map(result.map((n) => [n, usedNames(this.slots.get(n)!.current!.definition.uses).filter((d) => result.includes(d))])))
    return order
  }

  async #unload(name: string): Promise<ReloadResult> {
    const chain = [...this.#dependents(name).reverse(), name]
    for (const member of chain) {
      const slot = this.slots.get(member)
      if (!slot) continue
      const old = slot.current
      slot.current = undefined
      slot.status = 'stopped'
      if (member !== name) slot.lastError = `stopped because '${name}', which it uses, was removed`
      this.#rebuildMounts()
      if (old) this.#retire(old)
      if (member === name) this.slots.delete(name)
    }
    await this.#refreshProtocols()
    this.log.info(`plugin ${name} unloaded (its source is gone)${chain.length > 1 ? `; also stopped ${chain.slice(0, -1).join(', ')}` : ''}`)
    return { name, status: 'unloaded' }
  }

  /** An old generation finishes its in-flight requests, then runs its stop entries. */
  #retire(gen: Generation): void {
    const done = (async () => {
      // WebSocket clients of the old code reconnect to the new one: 1012, service restart.
      const sockets = this.ws.closeGeneration(gen, this.config.drainTimeoutMs)
      const drained = await gen.drained(this.config.drainTimeoutMs)
      if (!drained) {
        gen.log.warn(`generation ${gen.id} still had ${gen.inflight} requests or calls in flight after ${this.config.drainTimeoutMs} ms; ending its streams`)
        endGenerationCalls(gen, 'the plugin was reloaded')
      }
      await sockets
      await this.#stopGeneration(gen, 'retired')
    })()
    this.#retiring.add(done)
    void done.finally(() => this.#retiring.delete(done))
  }

  async #stopGeneration(gen: Generation, why: string): Promise<void> {
    await this.queue.retire(gen)
    gen.abort.abort(new Error(`plugin ${gen.name} generation ${gen.id} ${why}`))
    if (gen.stops.length) {
      await runStop(gen.stops, {
        log: gen.log,
        deadlineMs: this.config.shutdown.timeoutMs,
        order: this.config.shutdown.order,
        label: `plugin ${gen.name} generation ${gen.id} (${why})`,
      })
    }
    if (gen.bundle && ![...this.slots.values()].some((s) => s.current?.bundle?.file === gen.bundle!.file)) removeBundle(gen.bundle.file)
  }

  async #startWatching(): Promise<void> {
    const dirs = this.#options.scanPluginsDir === false ? [] : [this.config.pluginsDir]
    const paths = (this.#options.pluginPaths ?? []).map((p) => resolve(p))
    this.#watcher = watchPlugins(dirs, paths, (name) => {
      try {
        checkName(name, 'watch')
      } catch (error) {
        this.log.error(`plugin refused: ${errorMessage(error)}`)
        return
      }
      void this.reload(name, { reason: 'file change' })
    })
    await this.#watcher.ready
    this.log.info(`watching ${[...dirs, ...paths].join(', ')} for plugin changes`)
  }

  // ---- stop ----

  /** Stops every server and plugin in phase order; a second call returns the same stop. */
  stop(): Promise<StopReport> {
    if (this.#stopped) return this.#stopped
    this.stopping = true
    this.ready = false
    for (const slot of this.slots.values()) this.#cancelRetry(slot)
    this.#stopped = (async () => {
      this.log.info('shutdown started')
      this.grpc.notServing()
      await this.#watcher?.close()
      // A reload in progress finishes (or gives up) first, so its generation is stopped too.
      await this.#queue
      const entries: StopEntry[] = [
        { id: 'readiness', phase: Phase.Ready, timeoutMs: this.config.shutdown.readyDelayMs + 1000, fn: () => delay(this.config.shutdown.readyDelayMs) },
        ...this.#listeners.map((l) => ({ id: l.name, phase: Phase.Ingress, timeoutMs: this.config.shutdown.timeoutMs, fn: () => l.stop(), force: () => l.force() })),
      ]
      if (this.#retiring.size) {
        entries.push({ id: 'retiring generations', phase: Phase.Ingress, timeoutMs: this.config.drainTimeoutMs, fn: () => Promise.all(this.#retiring) })
      }
      const running = this.#current()
      const streamGraceMs = Math.min(5000, Math.floor(this.config.shutdown.timeoutMs / 4))
      if (this.grpc.started) {
        entries.push({ id: 'grpc', phase: Phase.Ingress, timeoutMs: this.config.shutdown.timeoutMs, fn: () => this.grpc.stop(running, streamGraceMs), force: () => this.grpc.force() })
      }
      if (this.ws.clients > 0 || running.some((g) => g.wsRoutes.size > 0)) {
        entries.push({ id: 'ws', phase: Phase.Ingress, timeoutMs: this.config.shutdown.timeoutMs, fn: () => this.ws.stop(), force: () => this.ws.force() })
      }
      // Every consumer the port keeps, of current and of retiring generations alike.
      entries.push(...this.queue.stopEntries(this.config.shutdown.timeoutMs))
      for (const gen of running) entries.push(...gen.stops)
      // Spans of the last requests are exported before the process goes; an unreachable receiver may hold the stop this long at most.
      // The entry gives the exporter a moment past its own wait to report and close.
      if (this.tracing.enabled) entries.push({ id: 'tracing', phase: Phase.Final, timeoutMs: this.#tracingStopMs() + 500, fn: () => this.tracing.shutdown(this.#tracingStopMs()) })
      entries.push({ id: 'log', phase: Phase.Final, timeoutMs: 1000, fn: () => this.#logSink.flush() })
      let aborted = false
      const report = await runStop(entries, {
        log: this.log,
        deadlineMs: this.config.shutdown.timeoutMs,
        order: this.config.shutdown.order,
        label: 'shutdown',
        onPhase: (phase) => {
          // Plugins' signals abort once ingress is closed: no request of theirs is still running.
          if (!aborted && phase > Phase.Ingress) {
            aborted = true
            for (const gen of running) gen.abort.abort(new Error('shutdown'))
          }
        },
      })
      for (const gen of running) gen.abort.abort(new Error('shutdown'))
      for (const slot of this.slots.values()) {
        slot.current = undefined
        slot.status = 'stopped'
      }
      rmSync(this.#buildDir, { recursive: true, force: true })
      this.log.info(`shutdown ${report.ok ? 'complete' : 'finished with forced or failed entries'} in ${report.durationMs} ms`)
      this.#logSink.flush()
      return report
    })()
    return this.#stopped
  }

  /** What `/readyz` answers: not while starting or stopping, nor with a failed plugin or an unhealthy dependency. */
  readiness(): { ready: boolean; reason: string } {
    if (this.stopping) return { ready: false, reason: 'shutting down' }
    if (!this.ready) return { ready: false, reason: 'starting' }
    const failed = [...this.slots.values()].filter((s) => !s.current && s.status === 'failed').map((s) => s.name)
    if (failed.length) return { ready: false, reason: `failed plugins: ${failed.join(', ')}` }
    const unhealthy = this.#current().flatMap((g) => [...g.health].filter(([, h]) => !h.ok).map(([component, h]) => `${g.name} ${component}: ${h.reason}`))
    if (unhealthy.length) return { ready: false, reason: `not healthy: ${unhealthy.join('; ')}` }
    return { ready: true, reason: 'ready' }
  }

  #tracingStopMs(): number {
    return Math.min(this.config.tracing?.timeoutMs ?? TRACING_STOP_MS, TRACING_STOP_MS)
  }

  /**
   * The stop a shutdown begun now would run: its phases in order with their entries, and the
   * global deadline. Lists the same entries as stop() (the console test compares the two).
   */
  stopPlan(): StopPlan {
    const { timeoutMs, readyDelayMs, order } = this.config.shutdown
    const running = this.#current()
    const entries: Array<Pick<StopEntry, 'id' | 'phase' | 'timeoutMs'>> = [
      { id: 'readiness', phase: Phase.Ready, timeoutMs: readyDelayMs + 1000 },
      ...this.#listeners.map((l) => ({ id: l.name, phase: Phase.Ingress, timeoutMs })),
    ]
    if (this.#retiring.size) entries.push({ id: 'retiring generations', phase: Phase.Ingress, timeoutMs: this.config.drainTimeoutMs })
    if (this.grpc.started) entries.push({ id: 'grpc', phase: Phase.Ingress, timeoutMs })
    if (this.ws.clients > 0 || running.some((g) => g.wsRoutes.size > 0)) entries.push({ id: 'ws', phase: Phase.Ingress, timeoutMs })
    entries.push(...this.queue.stopEntries(timeoutMs))
    for (const gen of running) entries.push(...gen.stops)
    if (this.tracing.enabled) entries.push({ id: 'tracing', phase: Phase.Final, timeoutMs: this.#tracingStopMs() + 500 })
    entries.push({ id: 'log', phase: Phase.Final, timeoutMs: 1000 })
    const phases = planStop(entries, order).map(({ phase, entries }) => ({ phase, label: phaseLabel(phase), entries: entries.map(({ id, timeoutMs }) => ({ id, timeoutMs })) }))
    return { deadlineMs: timeoutMs, phases }
  }

  /** A snapshot for /_armature/plugins and the CLI. */
  describe() {
    return {
      plugins: [...this.slots.values()].map((slot) => ({
        name: slot.name,
        version: slot.current?.definition.version ?? null,
        description: slot.current?.definition.description ?? null,
        generation: slot.current?.id ?? null,
        status: slot.current ? 'running' : slot.status,
        lastError: slot.lastError ?? null,
        loadedAt: slot.current?.loadedAt.toISOString() ?? null,
        routes: slot.current?.routes ?? [],
        websockets: [...(slot.current?.wsRoutes.keys() ?? [])],
        grpc: (slot.current?.grpc.services ?? []).flatMap(({ definition }) => Object.values(definition).map((m) => m.path)),
        uses: slot.current?.definition.uses ?? slot.uses,
        health: Object.fromEntries([...(slot.current?.health ?? [])].map(([component, h]) => [component, { ok: h.ok, reason: h.reason ?? null, since: h.since.toISOString() }])),
      })),
      rejected: this.rejected,
      queue: this.queue.describe(),
    }
  }
}

/** Loads the config, boots the plugins and opens the listeners. Config errors throw ConfigError. */
export async function startKernel(options: KernelOptions = {}): Promise<Kernel> {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const config = await loadKernelConfig({ cwd, env, ...(options.configFile ? { configFile: options.configFile } : {}), ...(options.overrides ? { overrides: options.overrides } : {}) })
  const kernel = new Kernel(config, env, { ...options, cwd })
  try {
    await kernel.boot()
    await kernel.listen()
  } catch (error) {
    await kernel.stop()
    throw error
  }
  return kernel
}

/** The address as bound (0.0.0.0 means every interface, and the log says so). */
function hostForUrl(address: AddressInfo): string {
  const host = address.address
  return `${host.includes(':') ? `[${host}]` : host}:${address.port}`
}


function isKernelPath(path: string): boolean {
  // '/_' is reserved for the kernel (plugins may not mount there), so one char code decides most.
  return path.charCodeAt(1) === 95 ? path === '/_armature' || path.startsWith('/_armature/') : path === '/healthz' || path === '/readyz' || path === '/metrics'
}

/** The path of an absolute URL without parsing it (the hot path sees every request). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  const hash = url.indexOf('#', start)
  const end = query === -1 ? hash : hash === -1 ? query : Math.min(query, hash)
  return end === -1 ? url.slice(start) : url.slice(start, end)
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

function realpathSafe(dir: string): string {
  try {
    return realpathSync(dir)
  } catch {
    return dir
  }
}

/** Removes build folders left by kernels that no longer run (a kill -9 leaves them behind). */
function sweepStaleBuilds(buildDir: string): void {
  if (!existsSync(buildDir)) return
  for (const entry of readdirSync(buildDir)) {
    const pid = Number(entry.split('-')[0])
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(buildDir, entry), { recursive: true, force: true })
    }
  }
}
