// The registered servers: create, list, swap routes, delete with a drain, restore after a
// restart. Every change that succeeds is written to the store before it is answered.
import { AddressInUseError, InvalidFieldError, ProxyClosingError, ServerExistsError, ServerNotFoundError, TooManyServersError } from './errors.ts'
import type { Forwarder } from './forwarder.ts'
import type { LoadedServer, ServerStore } from './persistence.ts'
import { resolveListenTls, summarise, type CertificateSummary } from './listen-tls.ts'
import { effectiveLimits, type ListenerLimits } from './listener-limits.ts'
import { ProxyServer, type AccessEntry, type DrainResult, type ServerObserver } from './proxy-server.ts'
import { parseName, parsePatch, parseServerSpec, type ServerSpec, type ValidationPolicy } from './validation.ts'

export interface RegistryLog {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export interface RegistryOptions {
  policy: ValidationPolicy
  forwarder: Forwarder
  /** Where the servers are kept: the servers file, or PostgreSQL. */
  store: ServerStore
  /** How long a failing target is skipped. */
  cooldownMs: number
  maxServers: number
  /** How long DELETE lets in-flight requests finish before closing what remains. */
  drainTimeoutMs: number
  /** How long a restored server whose address is still held (by the generation being replaced) is retried. */
  restoreRetryMs: number
  log: RegistryLog
  /** Called once per started server with its place in the creation sequence (from 1); returns its stop phase. */
  onStarted(server: ProxyServer, sequence: number): number | undefined
  /** Gives each started server something to report its requests, connections and tunnels to. */
  observe?(name: string): ServerObserver
  /** Writes one access-log line (servers with `accessLog: true`). */
  onAccess?(entry: AccessEntry): void
  /** Called once a deleted server has drained and closed. */
  onRemoved?(server: ProxyServer): void
}

interface Entry {
  spec: ServerSpec
  created: string
  server?: ProxyServer
  /** Why a restored server is not running (its address is taken, or today's options refuse it). */
  error?: string
  stopPhase?: number
  /** Set by DELETE before anything is awaited, so the list saved next leaves the server out. */
  forgotten?: boolean
  deleting?: Promise<DrainResult>
}

export interface ServerView {
  name: string
  url: string | null
  listen: { host: string; port: number }
  /** The listener's bounds in force: its own, or the proxy's options. */
  limits: ListenerLimits
  /** The certificate of an HTTPS listener (never its key); null for plain HTTP. */
  tls: CertificateSummary | null
  state: string
  created: string
  priority: number | null
  accessLog: boolean
  stopPhase: number | null
  routes: ServerSpec['routes']
  connections: number
  inFlight: number
  requests: number
  tunnels: number
  upstreams: ReturnType<ProxyServer['health']>
  error?: string
}

export class ServerRegistry {
  readonly #options: RegistryOptions
  /** Insertion order is creation order. */
  readonly #entries = new Map<string, Entry>()
  #sequence = 0
  #closing = false
  readonly #retryTimers = new Set<NodeJS.Timeout>()

  constructor(options: RegistryOptions) {
    this.#options = options
  }

  /** Starts the stored servers in creation order. A server that cannot start is kept (and shown) with its reason. */
  async restore(): Promise<{ restored: number; failed: number }> {
    const { log, policy } = this.#options
    let stored: LoadedServer[]
    try {
      stored = await this.#options.store.load()
    } catch (error) {
      log.error((error as Error).message)
      return { restored: 0, failed: 0 }
    }
    let restored = 0
    let failed = 0
    for (const { record, created } of stored) {
      let spec: ServerSpec
      try {
        spec = parseServerSpec(record, policy)
      } catch (error) {
        failed++
        const name = typeof record.name === 'string' ? record.name : `unnamed-${failed}`
        const reason = `stored server '${name}' is refused by the current options: ${(error as Error).message}`
        log.warn(reason)
        this.#entries.set(name, { spec: record as unknown as ServerSpec, created, error: reason })
        continue
      }
      const entry: Entry = { spec, created }
      this.#entries.set(spec.name, entry)
      try {
        await this.#start(entry)
        restored++
      } catch (error) {
        failed++
        entry.error = (error as Error).message
        if (error instanceof AddressInUseError) {
          // During a reload the generation being replaced holds the port until it has drained.
          log.info(`stored server '${spec.name}' waits for ${spec.listen.host}:${spec.listen.port}, still in use; retrying for up to ${this.#options.restoreRetryMs} ms`)
          this.#retryStart(entry, Date.now() + this.#options.restoreRetryMs)
        } else {
          log.warn(`stored server '${spec.name}' did not start: ${entry.error}`)
        }
      }
    }
    return { restored, failed }
  }

  async create(body: unknown): Promise<ServerView> {
    if (this.#closing) throw new ProxyClosingError()
    const spec = parseServerSpec(body, this.#options.policy)
    const existing = this.#entries.get(spec.name)
    if (existing) throw new ServerExistsError(spec.name, this.#state(existing))
    if (this.#entries.size >= this.#options.maxServers) throw new TooManyServersError(this.#options.maxServers)
    // Reserved before the first await, so two requests cannot both take the name.
    const entry: Entry = { spec, created: new Date().toISOString() }
    this.#entries.set(spec.name, entry)
    try {
      await this.#start(entry)
    } catch (error) {
      this.#entries.delete(spec.name)
      throw error
    }
    try {
      await this.#persist()
    } catch (error) {
      this.#entries.delete(spec.name)
      await entry.server?.drain(this.#options.drainTimeoutMs)
      throw error
    }
    this.#options.log.info(`proxy server '${spec.name}' listening on ${entry.server!.url} (stop phase ${entry.stopPhase})`)
    return this.#view(entry)
  }

  list(): ServerView[] {
    return [...this.#entries.values()].map((e) => this.#view(e))
  }

  get(name: string): ServerView {
    return this.#view(this.#find(name))
  }

  /**
   * Swaps the routes and/or the certificate in place: open connections stay; the next request
   * uses the new routes, the next connection the new certificate.
   */
  async update(name: string, body: unknown): Promise<ServerView> {
    const entry = this.#find(name)
    if (entry.forgotten) throw new ServerExistsError(name, 'draining')
    const { policy } = this.#options
    const { routes, tls, accessLog } = parsePatch(body, policy)
    if (tls && !entry.spec.listen.tls) {
      throw new InvalidFieldError(
        'tls',
        `proxy server '${name}' listens on plain HTTP, and a server's protocol is fixed at registration; delete it and register it again with listen.tls`,
      )
    }
    const previous = { routes: entry.spec.routes, tls: entry.spec.listen.tls, accessLog: entry.spec.accessLog }
    const apply = (to: typeof previous) => {
      // Only a new route table restarts the health checks and rebuilds the balancers.
      if (to.routes !== entry.spec.routes) {
        entry.server?.replaceRoutes(to.routes)
        entry.spec.routes = to.routes
      }
      if (to.tls) {
        entry.server?.setCertificate(resolveListenTls(to.tls, policy.certificate)!)
        entry.spec.listen.tls = to.tls
      }
      entry.spec.accessLog = to.accessLog
    }
    apply({ routes: routes ?? previous.routes, tls: tls ?? previous.tls, accessLog: accessLog ?? previous.accessLog })
    try {
      await this.#persist()
    } catch (error) {
      apply(previous)
      throw error
    }
    const changed = [
      routes ? `routes ${routes.map((r) => r.path).join(', ')}` : '',
      tls ? 'certificate' : '',
      accessLog !== undefined ? `access log (${accessLog ? 'on' : 'off'})` : '',
    ]
      .filter(Boolean)
      .join(' and ')
    this.#options.log.info(`proxy server '${name}' updated: ${changed}`)
    return this.#view(entry)
  }

  /** Forgets the server (in the store first), then drains it. A second call waits for the same drain; a failed store write leaves it running. */
  async remove(name: string): Promise<ServerView & { drain: DrainResult }> {
    const entry = this.#find(name)
    entry.forgotten = true
    entry.deleting ??= (async () => {
      try {
        await this.#persist()
      } catch (error) {
        // Still stored, so still served: a later DELETE tries again.
        entry.forgotten = false
        entry.deleting = undefined
        throw error
      }
      const result = entry.server ? await entry.server.drain(this.#options.drainTimeoutMs) : { finished: 0, durationMs: 0, forced: false }
      this.#entries.delete(name)
      if (entry.server) this.#options.onRemoved?.(entry.server)
      this.#options.log.info(
        `proxy server '${name}' deleted: ${result.finished} in-flight requests finished in ${result.durationMs} ms${result.forced ? '; the rest were cut at the drain timeout' : ''}`,
      )
      return result
    })()
    const drain = await entry.deleting
    return { ...this.#view(entry), state: 'deleted', drain }
  }

  /** From now on no server is created (the stop has begun). */
  close(): void {
    this.#closing = true
    for (const timer of this.#retryTimers) clearTimeout(timer)
    this.#retryTimers.clear()
  }

  /** Drains one server at shutdown; it stays registered and comes back at the next start. */
  async stop(server: ProxyServer, timeoutMs: number): Promise<DrainResult> {
    const result = await server.drain(timeoutMs)
    this.#options.log.info(
      `proxy server '${server.name}' stopped: ${result.finished} in-flight requests finished in ${result.durationMs} ms${result.forced ? '; the rest were cut at the deadline' : ''}`,
    )
    return result
  }

  /** Servers still running: normally none once their own stop entries have run. */
  running(): ProxyServer[] {
    return [...this.#entries.values()].flatMap((e) => (e.server && e.server.state !== 'stopped' ? [e.server] : []))
  }

  async #start(entry: Entry): Promise<void> {
    const server = new ProxyServer(entry.spec, this.#options.forwarder, {
      cooldownMs: this.#options.cooldownMs,
      tls: resolveListenTls(entry.spec.listen.tls, this.#options.policy.certificate),
      limits: effectiveLimits(entry.spec.listen, this.#options.policy.limits),
      observer: this.#options.observe?.(entry.spec.name),
      ...(this.#options.onAccess ? { onAccess: this.#options.onAccess } : {}),
    })
    const address = await server.start()
    // The URL is fixed at registration: a server asked for port 0 keeps the port it got.
    entry.spec.listen.port = address.port
    entry.server = server
    delete entry.error
    entry.stopPhase = this.#options.onStarted(server, ++this.#sequence)
  }

  #retryStart(entry: Entry, until: number): void {
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer)
      void this.#startAgain(entry, until)
    }, 200)
    timer.unref()
    this.#retryTimers.add(timer)
  }
  async #startAgain(entry: Entry, until: number): Promise<void> {
    if (this.#closing || this.#entries.get(entry.spec.name) !== entry || entry.deleting) return
    try {
      await this.#start(entry)
      this.#options.log.info(`stored server '${entry.spec.name}' started on ${entry.server!.url} once its address was free`)
    } catch (error) {
      entry.error = (error as Error).message
      if (error instanceof AddressInUseError && Date.now() < until) this.#retryStart(entry, until)
      else this.#options.log.error(`stored server '${entry.spec.name}' could not start: ${entry.error}`)
    }
  }

  #persist(): Promise<void> {
    const kept = [...this.#entries.values()].filter((e) => !e.forgotten)
    return this.#options.store.save(kept.map((e) => ({ spec: e.spec, created: e.created })))
  }

  #find(name: string): Entry {
    const entry = this.#entries.get(parseName(name))
    if (!entry) throw new ServerNotFoundError(name)
    return entry
  }

  #state(entry: Entry): string {
    if (entry.forgotten) return 'draining'
    if (entry.server) return entry.server.state
    return entry.error ? 'failed' : 'starting'
  }

  #certificate(entry: Entry): CertificateSummary | null {
    const tls = entry.spec.listen?.tls
    if (!tls) return null
    // A restored record today's options refuse is shown as stored; its certificate may be unreadable.
    try {
      const pair = resolveListenTls(tls, this.#options.policy.certificate)
      return pair ? summarise(tls, pair) : null
    } catch {
      return null
    }
  }

  #view(entry: Entry): ServerView {
    const stats = entry.server?.stats() ?? { connections: 0, inFlight: 0, requests: 0, tunnels: 0 }
    return {
      name: entry.spec.name,
      url: entry.server?.url ?? null,
      listen: { host: entry.spec.listen?.host, port: entry.spec.listen?.port },
      limits: effectiveLimits(entry.spec.listen ?? {}, this.#options.policy.limits),
      tls: this.#certificate(entry),
      state: this.#state(entry),
      created: entry.created,
      priority: entry.spec.priority ?? null,
      accessLog: entry.spec.accessLog === true,
      stopPhase: entry.stopPhase ?? null,
      routes: entry.spec.routes,
      ...stats,
      upstreams: entry.server?.health() ?? [],
      ...(entry.error ? { error: entry.error } : {}),
    }
  }
}
