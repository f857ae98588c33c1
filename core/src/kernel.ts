// The kernel: wires the registry, the generation lifecycle and the protocols together, opens
// the listeners, and stops everything through the priority registry.
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { admin, type AdminPort } from './admin.ts'
import type { Env, KernelConfig, KernelOverrides } from './config.ts'
import { ConfigError } from './errors.ts'
import { Lifecycle, type ReloadResult } from './lifecycle.ts'
import { buildFolder, findSources, sweepStaleBuilds, type PluginPlaces, type Watcher } from './loader.ts'
import { createLog, type KernelLog } from './log.ts'
import { kernelOperations } from './operations.ts'
import { KernelMetrics } from './metrics.ts'
import { Phase } from './plugin.ts'
import type { Protocol } from './protocol.ts'
import { QueuePort } from './queue/port.ts'
import { QueueProtocol } from './queue/protocol.ts'
import { PluginRegistry, type PluginSlot } from './registry.ts'
import { HttpDispatcher } from './servers/dispatch.ts'
import { GrpcGateway } from './servers/grpc.ts'
import { GrpcProtocol } from './servers/grpc-protocol.ts'
import { HttpProtocol } from './servers/http-protocol.ts'
import { WsGateway } from './servers/ws.ts'
import { WsProtocol } from './servers/ws-protocol.ts'
import { PluginListeners } from './servers/listeners.ts'
import { phaseLabel, planStop, runStop, type StopEntry, type StopReport } from './shutdown.ts'
import { kernelCertificate } from './tls.ts'
import { traceGrpcHandler } from './tracing/grpc.ts'
import { HttpTracing } from './tracing/http.ts'
import { startTracing, type Tracing } from './tracing/provider.ts'
import { QueueTracing } from './tracing/queue.ts'

export type { ReloadResult } from './lifecycle.ts'
export type { PluginSlot, PluginStatus } from './registry.ts'

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

export interface StopPlan {
  deadlineMs: number
  phases: Array<{ phase: number; label: string; entries: Array<{ id: string; timeoutMs: number }> }>
}

/** The longest the Final phase waits for buffered spans to be exported. */
const TRACING_STOP_MS = 5000

export class Kernel {
  readonly config: KernelConfig
  readonly log: Logger
  readonly metrics = new KernelMetrics()
  readonly addresses: { http?: AddressInfo; https?: AddressInfo; grpc?: number; grpcs?: number } = {}
  readonly queue: QueuePort
  /** Spans per request, call and message, exported by OTLP; a no-op when no endpoint is configured. */
  readonly tracing: Tracing
  /** The CA that signed the dev certificate, when the kernel made one. */
  devCa: string | undefined

  readonly #options: KernelOptions
  readonly #logSink: KernelLog
  readonly #registry: PluginRegistry
  readonly #lifecycle: Lifecycle
  readonly #buildDir: string
  readonly #places: PluginPlaces
  readonly #http: HttpProtocol
  readonly #ws: WsProtocol
  readonly #grpc: GrpcProtocol
  readonly #protocols: Protocol[]
  #ready = false
  #stopping = false
  #watcher: Watcher | undefined
  #stopped: Promise<StopReport> | undefined

  constructor(config: KernelConfig, env: Env, options: KernelOptions) {
    this.config = config
    this.#options = options
    this.#logSink = createLog({
      level: config.logLevel,
      file: config.logFile,
      ...(options.prettyLogs !== undefined ? { pretty: options.prettyLogs } : {}),
      ...(options.terminalLogLevel ? { terminalLevel: options.terminalLogLevel } : {}),
    })
    this.log = this.#logSink.log
    this.tracing = startTracing(config.tracing, this.log)
    this.#registry = new PluginRegistry(this.log)
    this.#buildDir = buildFolder(config.buildDir)
    this.#places = { pluginsDir: config.pluginsDir, pluginPaths: options.pluginPaths ?? [], scanPluginsDir: options.scanPluginsDir !== false }
    const tracer = this.tracing.enabled ? this.tracing.tracer('armature') : undefined
    const stopMs = config.shutdown.timeoutMs
    const grpcCalls = this.metrics.grpcCalls()
    const gateway = new GrpcGateway({
      log: this.log,
      host: config.host,
      port: config.grpcPort,
      tlsPort: config.grpcsPort,
      maxBufferedBytes: config.grpcMaxBufferedBytes,
      onCall: (plugin, method, code) => grpcCalls.inc({ plugin, method, code }),
      ...(tracer ? { wrapHandler: (path, type, handler) => traceGrpcHandler(tracer, path, type, handler) } : {}),
    })
    this.queue = QueuePort.fromConfig(config, this.log, tracer && new QueueTracing(tracer))
    this.#http = new HttpProtocol(new HttpDispatcher(this.metrics, tracer && new HttpTracing(tracer)), admin(this.#adminPort()), stopMs, {
      maxBytes: config.http.maxBodyBytes,
      maxDepth: config.http.maxJsonDepth,
    })
    this.#ws = new WsProtocol(
      new WsGateway({ log: this.log, maxPayload: config.wsMaxPayload, pingIntervalMs: config.wsPingIntervalMs, maxBufferedBytes: config.wsMaxBufferedBytes }),
      stopMs,
    )
    this.#grpc = new GrpcProtocol(gateway, stopMs, ({ grpc, grpcs }) => Object.assign(this.addresses, { grpc, grpcs }))
    const listeners = new PluginListeners(this.log, stopMs)
    this.#protocols = [this.#http, this.#grpc, this.#ws, listeners, new QueueProtocol(this.queue, stopMs)]
    this.metrics.watchGenerations(
      () => this.#registry.current(),
      (gen) => this.#ws.clients(gen),
    )
    this.#lifecycle = new Lifecycle({
      config,
      env,
      log: this.log,
      registry: this.#registry,
      protocols: this.#protocols,
      metrics: this.metrics,
      tracing: this.tracing,
      places: this.#places,
      buildDir: this.#buildDir,
      operations: kernelOperations({
        logSink: this.#logSink,
        reload: (name) => this.reload(name, { force: true, reason: 'plugin request' }),
        plugins: () => this.describe(),
      }),
      stopping: () => this.#stopping,
    })
  }

  /** The plugin table, by name. */
  get slots(): ReadonlyMap<string, PluginSlot> {
    return this.#registry.slots
  }

  /** The one HTTP entry point: kernel routes, else the plugin whose base matches. */
  get fetch(): (request: Request, env?: unknown) => Response | Promise<Response> {
    return this.#http.fetch
  }

  /** Sets up every plugin in dependency order; config errors throw before any listener opens. */
  async boot(): Promise<void> {
    sweepStaleBuilds(this.config.buildDir)
    // Connects in the background when the broker is down; publishes wait for it.
    await this.queue.start()
    const sources = findSources(
      this.#places,
      (rejected) => {
        this.#registry.rejected.push(rejected)
        this.log.error(`plugin refused: ${rejected.error}`)
      },
      (path) => new ConfigError('plugins', `${path} is not a plugin (a folder with index.ts or a <name>.ts file)`),
    )
    await this.#lifecycle.boot(sources)
  }

  async listen(): Promise<void> {
    const tls = await kernelCertificate(this.config, resolve(this.#options.cwd ?? process.cwd()), this.log)
    this.devCa = tls?.ca
    if (tls) this.#grpc.gateway.options.tls = tls
    const { host, port, httpsPort, http: limits } = this.config
    const bound = await this.#http.open({ host, port, httpsPort, tls, limits, onUpgrade: this.#ws.gateway.upgrade })
    Object.assign(this.addresses, bound)
    this.log.info(`http listening on http://${hostPort(bound.http)}`)
    if (bound.https) this.log.info(`https listening on https://${hostPort(bound.https)}`)
    this.#grpc.open = true
    await this.#lifecycle.update()
    if (this.config.watch) this.#watcher = await this.#lifecycle.watch()
    this.#ready = true
    const slots = [...this.#registry.slots.values()]
    const failed = slots.filter((s) => s.status === 'failed').map((s) => s.name)
    this.log.info(`ready: ${slots.filter((s) => s.status === 'running').length} plugins running${failed.length ? `, failed: ${failed.join(', ')}` : ''}`)
  }

  /** Reloads a plugin (and the plugins that use it) on demand or on a file change. */
  reload(name: string, options: { force?: boolean; reason?: string } = {}): Promise<ReloadResult> {
    return this.#lifecycle.reload(name, options)
  }

  /** Stops every server and plugin in phase order; a second call returns the same stop. */
  stop(): Promise<StopReport> {
    if (this.#stopped) return this.#stopped
    this.#stopping = true
    this.#ready = false
    this.#lifecycle.cancelRetries()
    this.#stopped = (async () => {
      this.log.info('shutdown started')
      for (const protocol of this.#protocols) protocol.stopping?.()
      await this.#watcher?.close()
      // A reload in progress finishes (or gives up) first, so its generation is stopped too.
      await this.#lifecycle.settled()
      const running = this.#registry.current()
      let aborted = false
      const report = await runStop(this.#stopEntries(running), {
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
      for (const slot of this.#registry.slots.values()) {
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

  /** The stop a shutdown begun now would run: its phases in order with their entries, and the global deadline. */
  stopPlan(): StopPlan {
    const { timeoutMs, order } = this.config.shutdown
    const phases = planStop(this.#stopEntries(this.#registry.current()), order).map(({ phase, entries }) => ({
      phase,
      label: phaseLabel(phase),
      entries: entries.map(({ id, timeoutMs }) => ({ id, timeoutMs })),
    }))
    return { deadlineMs: timeoutMs, phases }
  }

  /** What `/readyz` answers: not while starting or stopping, nor with a failed plugin or an unhealthy dependency. */
  readiness(): { ready: boolean; reason: string } {
    if (this.#stopping) return { ready: false, reason: 'shutting down' }
    if (!this.#ready) return { ready: false, reason: 'starting' }
    const problems = this.#registry.problems()
    return problems ? { ready: false, reason: problems } : { ready: true, reason: 'ready' }
  }

  /** A snapshot for /_armature/plugins and the CLI. */
  describe() {
    const served = (gen: Parameters<NonNullable<Protocol['describe']>>[0]) => Object.assign({}, ...this.#protocols.map((p) => p.describe?.(gen) ?? {}))
    return { plugins: this.#registry.describe(served), rejected: this.#registry.rejected, queue: this.queue.describe() }
  }

  /** Every stop entry, collected from the protocols, the retiring and running generations, tracing and the log. */
  #stopEntries(running: ReturnType<PluginRegistry['current']>): StopEntry[] {
    const { readyDelayMs } = this.config.shutdown
    const entries: StopEntry[] = [{ id: 'readiness', phase: Phase.Ready, timeoutMs: readyDelayMs + 1000, fn: () => delay(readyDelayMs) }]
    const retiring = this.#lifecycle.retiring
    if (retiring.size) entries.push({ id: 'retiring generations', phase: Phase.Ingress, timeoutMs: this.config.drainTimeoutMs, fn: () => Promise.all(retiring) })
    for (const protocol of this.#protocols) entries.push(...protocol.stopEntries(running))
    for (const gen of running) entries.push(...gen.stops)
    // Spans of the last requests are exported before the process goes; an unreachable receiver may hold the stop this long at most.
    // The entry gives the exporter a moment past its own wait to report and close.
    const tracingMs = Math.min(this.config.tracing?.timeoutMs ?? TRACING_STOP_MS, TRACING_STOP_MS)
    if (this.tracing.enabled) entries.push({ id: 'tracing', phase: Phase.Final, timeoutMs: tracingMs + 500, fn: () => this.tracing.shutdown(tracingMs) })
    entries.push({ id: 'log', phase: Phase.Final, timeoutMs: 1000, fn: () => this.#logSink.flush() })
    return entries
  }

  /** What the admin routes and the console may reach: nothing more. */
  #adminPort(): AdminPort {
    return {
      log: this.log,
      adminToken: () => this.config.adminToken,
      metrics: this.metrics,
      readiness: () => this.readiness(),
      describe: () => this.describe(),
      stopPlan: () => this.stopPlan(),
      reload: (name, options) => this.reload(name, options),
    }
  }
}

/** The address as bound (0.0.0.0 means every interface, and the log says so). */
function hostPort(address: AddressInfo): string {
  return `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}
