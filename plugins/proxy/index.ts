// The proxy plugin: an admin API that starts proxy servers at run time, and a stop entry per
// server so the kernel stops them one after another, in the order the options ask for.
// Registered servers are kept in PostgreSQL when the db plugin runs on it, else in a file.
// Other plugins get the forwarder through `ctx.use('proxy').forward`.
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join, resolve } from 'node:path'
import { definePlugin, option, Phase, requireBearer, type PluginMetrics } from '@armature/core'
import { watchAvailability } from '@armature/plugin-db'
import { ADMIN_API_DISABLED, adminRoutes } from './src/admin-routes.ts'
import { LOOPBACK_ONLY, TargetAllowList } from './src/allow-list.ts'
import { ProxyOptionError } from './src/errors.ts'
import { Forwarder, type ForwardToOptions } from './src/forwarder.ts'
import { checkPair, type PemPair } from './src/listen-tls.ts'
import { LIMIT_KEYS, LIMIT_RANGES, LISTENER_DEFAULTS, pairProblem, type ListenerLimits } from './src/listener-limits.ts'
import { ServerFile, type ServerStore } from './src/persistence.ts'
import { MIGRATIONS, PgServerStore } from './src/pg-store.ts'
import { parsePortRange } from './src/port-range.ts'
import { ServerRegistry } from './src/registry.ts'
import type { ProxyServer, ServerObserver } from './src/proxy-server.ts'
import { STOP_ORDERS, SWEEP_PHASE, stopPhase } from './src/stop-order.ts'

/** What the proxy provides to the plugins that declare `uses: ['proxy']`. */
export interface ProxyApi {
  /**
   * Forwards the request to `target` (its path and query are sent as they are) and streams the
   * answer into `res`; resolves once the answer is under way or an error was answered: 502 when
   * the target does not answer, 504 past the response timeout, 413 over `maxBodyBytes`.
   */
  forward(req: IncomingMessage, res: ServerResponse, target: URL | string, options?: ForwardToOptions): Promise<void>
}

declare module '@armature/core' {
  interface PluginApis {
    proxy: ProxyApi
  }
}

export default definePlugin({
  name: 'proxy',
  version: '0.1.0',
  description: 'A dynamic reverse proxy: an admin API registers and starts proxy servers at run time',
  uses: ['db'],
  config: {
    /** Who stops first at shutdown among servers without a priority: `reverse` (last created first) or `creation`. */
    stopOrder: option.enum(STOP_ORDERS, 'reverse'),
    /** Upstream hosts routes may point at: IP addresses, CIDR networks, exact host names, or `*` for any. */
    allowedTargets: [...LOOPBACK_ONLY] as string[],
    /** Ports a server may listen on; 0 (any free port) is always accepted. */
    portRange: '1024-65535',
    maxServers: option.int(100, { min: 1 }),
    /** Largest admin request body, in bytes. */
    maxAdminBodyBytes: option.int(64 * 1024, { min: 1 }),
    /** Largest proxied request body, in bytes. */
    maxBodyBytes: option.int(10 * 1024 * 1024, { min: 1 }),
    connectTimeoutMs: option.duration(2000, { min: 1 }),
    responseTimeoutMs: option.duration(30_000, { min: 1 }),
    /** How long a target that failed is skipped. */
    healthCooldownMs: option.duration(5000, { min: 1 }),
    /** How long DELETE and the shutdown let in-flight requests finish, per server. */
    drainTimeoutMs: option.duration(10_000, { min: 1 }),
    /** Per listener, unless a registration sets its own under `listen`: a client's time to send its headers (then 408). */
    headersTimeoutMs: option.duration(LISTENER_DEFAULTS.headersTimeoutMs, LIMIT_RANGES.headersTimeoutMs),
    /** A client's time to send its whole request, body included; 0: no limit. */
    requestTimeoutMs: option.duration(LISTENER_DEFAULTS.requestTimeoutMs, LIMIT_RANGES.requestTimeoutMs),
    /** How long an idle keep-alive client connection is kept. */
    keepAliveTimeoutMs: option.duration(LISTENER_DEFAULTS.keepAliveTimeoutMs, LIMIT_RANGES.keepAliveTimeoutMs),
    /** Client connections per listener; further ones are closed on arrival. */
    maxConnections: option.int(LISTENER_DEFAULTS.maxConnections, LIMIT_RANGES.maxConnections),
    /** Certificate and key files served by servers registered with `listen.tls: true`; default TLS_CERT and TLS_KEY. */
    tlsCert: '',
    tlsKey: '',
  },
  async setup(ctx) {
    const { config } = ctx
    const order = config.stopOrder
    const limits = listenerLimits(config)
    const certificate = configuredCertificate(config.tlsCert || ctx.env.TLS_CERT || '', config.tlsKey || ctx.env.TLS_KEY || '')
    const observe = serverMetrics(ctx.metrics)
    const withdraw = new Map<ProxyServer, () => void>()
    const forwarder = new Forwarder({ connectTimeoutMs: config.connectTimeoutMs, responseTimeoutMs: config.responseTimeoutMs, maxBodyBytes: config.maxBodyBytes })

    // PostgreSQL when the db plugin runs on it (DATABASE_URL, or DB_URL); otherwise the servers file.
    const db = ctx.use('db')
    let store: ServerStore
    if (ctx.env.DATABASE_URL || db.kind === 'postgres') {
      const applied = await db.migrate('proxy', MIGRATIONS)
      if (applied.length > 0) ctx.log.info({ applied }, 'proxy migrations applied')
      // An outage answers 503 (the change is not made) and turns /readyz to 503 until the database answers again.
      const { database, watch } = watchAvailability(db, { onChange: (status) => ctx.health.report('database', status) })
      ctx.signal.addEventListener('abort', () => watch.stop())
      store = new PgServerStore(database)
    } else {
      store = new ServerFile(join(ctx.kernel.dataDir, 'servers.json'))
    }

    const registry: ServerRegistry = new ServerRegistry({
      policy: { allowList: new TargetAllowList(config.allowedTargets), ports: parsePortRange(config.portRange), limits, ...(certificate ? { certificate } : {}) },
      forwarder,
      store,
      cooldownMs: config.healthCooldownMs,
      maxServers: config.maxServers,
      drainTimeoutMs: config.drainTimeoutMs,
      restoreRetryMs: config.drainTimeoutMs + 5000,
      log: ctx.log,
      observe: (name) => observe.server(name),
      onAccess: (entry) => ctx.log.info(entry, `${entry.method} ${entry.url} ${entry.status} ${entry.ms} ms`),
      onStarted(server, sequence) {
        observe.servers(registry.running().length)
        const phase = stopPhase(sequence, server.spec.priority, order)
        const remove = ctx.onStop(`server ${server.name}`, () => (server.state === 'stopped' ? undefined : registry.stop(server, config.drainTimeoutMs)), {
          phase,
          timeoutMs: config.drainTimeoutMs,
          force: () => server.force(),
        })
        withdraw.set(server, remove)
        return phase
      },
      // A deleted server's stop entry goes with it, so the shutdown order lists only live servers.
      onRemoved(server) {
        withdraw.get(server)?.()
        withdraw.delete(server)
        observe.servers(registry.running().length)
      },
    })

    ctx.onStop('refuse new servers', () => registry.close(), { phase: Phase.Ready, timeoutMs: 1000 })
    ctx.onStop('servers started during the stop', () => Promise.all(registry.running().map((s) => registry.stop(s, config.drainTimeoutMs))), {
      phase: SWEEP_PHASE,
      timeoutMs: config.drainTimeoutMs,
      force: () => registry.running().forEach((s) => s.force()),
    })
    ctx.onStop('upstream connections', () => forwarder.close(), { phase: Phase.Egress, timeoutMs: 1000 })

    const api: ProxyApi = { forward: (req, res, target, options) => forwarder.forwardTo(req, res, target, options) }
    ctx.provide(api)

    ctx.http.route(
      adminRoutes(registry, {
        requireAdmin: requireBearer(ctx.kernel.adminToken, { disabled: ADMIN_API_DISABLED }),
        readJson: (c) => ctx.http.readJson(c, { maxBytes: config.maxAdminBodyBytes, limitName: 'PROXY_MAX_ADMIN_BODY_BYTES' }),
      }),
    )

    // Last, so nothing after it can fail setup and leave restored listeners open.
    const { restored, failed } = await registry.restore()
    if (restored || failed) ctx.log.info(`proxy restored ${restored} stored servers${failed ? `; ${failed} could not start (see GET /proxy/servers)` : ''}`)
  },
})

/** The listener limits of servers that do not set their own. */
function listenerLimits(config: ListenerLimits): ListenerLimits {
  const limits = Object.fromEntries(LIMIT_KEYS.map((key) => [key, config[key]])) as unknown as ListenerLimits
  const problem = pairProblem(limits)
  if (problem) throw new ProxyOptionError('headersTimeoutMs', limits.headersTimeoutMs, problem)
  return limits
}

/** Reads the pair `listen.tls: true` serves; both files or neither. */
function configuredCertificate(certPath: string, keyPath: string): PemPair | undefined {
  if (!certPath && !keyPath) return undefined
  if (!certPath || !keyPath) throw new ProxyOptionError(certPath ? 'tlsKey' : 'tlsCert', '', 'tlsCert and tlsKey (or TLS_CERT and TLS_KEY) are set together')
  const read = (path: string, key: string) => {
    try {
      return readFileSync(resolve(path), 'utf8')
    } catch (error) {
      throw new ProxyOptionError(key, path, `a readable PEM file (${(error as Error).message})`)
    }
  }
  const pair = { cert: read(certPath, 'tlsCert'), key: read(keyPath, 'tlsKey') }
  try {
    checkPair(pair, 'tls')
  } catch (error) {
    throw new ProxyOptionError('tlsCert/tlsKey', `${certPath}, ${keyPath}`, (error as Error).message)
  }
  return pair
}

/**
 * Per-server metrics, `armature_proxy_*`. Labelled children are looked up once per server and
 * status, so a request costs two increments and no label hashing. A deleted server's series
 * stay (its gauges fall to 0 as its connections close): removing them while a forced socket
 * is still closing would bring the series back below zero.
 */
function serverMetrics(metrics: PluginMetrics) {
  const requests = metrics.counter('requests_total', 'Requests answered by proxy servers, by server and status', ['server', 'status'])
  const duration = metrics.histogram('request_duration_seconds', 'From a proxied request to the end of its answer, by server', ['server'])
  const connections = metrics.gauge('connections', 'Open client connections, by server', ['server'])
  const tunnels = metrics.gauge('tunnels', 'Open WebSocket tunnels, by server', ['server'])
  const servers = metrics.gauge('servers', 'Proxy servers listening')
  return {
    server(name: string): ServerObserver {
      const byStatus = new Map<number, { inc(): void }>()
      const timing = duration.labels(name)
      const open = connections.labels(name)
      const tunnelled = tunnels.labels(name)
      return {
        request(status, seconds) {
          let counter = byStatus.get(status)
          if (!counter) byStatus.set(status, (counter = requests.labels(name, String(status))))
          counter.inc()
          timing.observe(seconds)
        },
        connection: (delta) => open.inc(delta),
        tunnel: (delta) => tunnelled.inc(delta),
      }
    },
    servers: (count: number) => servers.set(count),
  }
}
