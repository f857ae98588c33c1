// HTTP and HTTPS as a kernel protocol: the listeners, the kernel's own routes in front, the
// dispatcher that hands every other path to the plugin whose route base matches, and ctx.http.
import { getRequestListener } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hono } from 'hono'
import type { Claim } from '../claims.ts'
import type { HttpLimits } from '../config.ts'
import { PluginError } from '../errors.ts'
import type { Generation } from '../generation.ts'
import { bodyReaders, type BodyLimits } from '../http/body.ts'
import { Phase, type PluginHttp } from '../plugin.ts'
import { perGeneration, type Binding, type Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import { HttpDispatcher, isKernelPath, pathOf, type RequestEnv } from './dispatch.ts'
import { HttpListener, type TlsFiles } from './http.ts'
import { answerError, mount } from './http-mount.ts'
import { Interceptors, type Interception } from './intercept.ts'
import { normalizeBase } from './route-base.ts'

export interface HttpOpenOptions {
  host: string
  port: number
  httpsPort: number
  tls: TlsFiles | undefined
  limits: HttpLimits
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

/** What one generation registered through ctx.http. */
interface HttpPart {
  /** base path -> the app that serves it (the plugin's app mounted under the base). */
  readonly apps: Map<string, Hono>
  /** Middleware in front of routes of any plugin (ctx.http.intercept). */
  readonly intercepts: Interception[]
}

const KERNEL_PATHS = ['/healthz', '/readyz', '/metrics']

export class HttpProtocol implements Protocol {
  readonly name = 'http'
  readonly #listeners: HttpListener[] = []
  readonly #part = perGeneration<HttpPart>(() => ({ apps: new Map(), intercepts: [] }))

  constructor(
    readonly dispatcher: HttpDispatcher,
    readonly kernelApp: Hono,
    readonly stopTimeoutMs: number,
    /** HTTP_MAX_BODY_BYTES and HTTP_MAX_JSON_DEPTH: the defaults of ctx.http.readJson/readBody. */
    readonly bodyLimits: BodyLimits,
  ) {}

  /** The one HTTP entry point: kernel routes, else the plugin whose base matches. */
  readonly fetch = (request: Request, env?: unknown): Response | Promise<Response> => {
    const path = pathOf(request.url)
    if (isKernelPath(path)) return this.kernelApp.fetch(request, env)
    return this.dispatcher.dispatch(request, path, env as RequestEnv | undefined)
  }

  /** Opens HTTP, and HTTPS when there is a certificate; answers the addresses as bound. */
  async open(options: HttpOpenOptions): Promise<{ http: AddressInfo; https?: AddressInfo }> {
    // An HTTP/1.0 request may come without Host; it is served as if for localhost.
    const listener = getRequestListener(this.fetch, { hostname: 'localhost' })
    const http = new HttpListener('http', listener, options.limits)
    http.onUpgrade(options.onUpgrade)
    const addresses: { http: AddressInfo; https?: AddressInfo } = { http: await http.listen(options.port, options.host) }
    this.#listeners.push(http)
    if (options.tls) {
      const https = new HttpListener('https', listener, options.limits, options.tls)
      https.onUpgrade(options.onUpgrade)
      addresses.https = await https.listen(options.httpsPort, options.host)
      this.#listeners.push(https)
    }
    return addresses
  }

  context({ gen, duringSetup }: Binding): { http: PluginHttp } {
    const part = this.#part(gen)
    return {
      http: {
        route(app, options = {}) {
          duringSetup('ctx.http.route')
          const base = normalizeBase(options.base ?? `/${gen.name}`, gen.name)
          if (part.apps.has(base)) throw new PluginError(gen.name, `routes already mounted at ${base}`)
          part.apps.set(base, mount(base, app, gen.log))
        },
        intercept(pattern, handler, options = {}) {
          duringSetup('ctx.http.intercept')
          if (typeof pattern !== 'string' || !pattern.startsWith('/')) throw new PluginError(gen.name, `ctx.http.intercept: pattern ${JSON.stringify(pattern)} must start with /`)
          if (pattern === '/_armature' || pattern.startsWith('/_armature/') || KERNEL_PATHS.includes(pattern)) {
            throw new PluginError(gen.name, `ctx.http.intercept: ${pattern} belongs to the kernel`)
          }
          if (typeof handler !== 'function') throw new PluginError(gen.name, 'ctx.http.intercept: middleware must be a function (c, next) => ...')
          const order = options.order ?? 0
          if (!Number.isFinite(order)) throw new PluginError(gen.name, `ctx.http.intercept: order ${JSON.stringify(order)} must be a number`)
          part.intercepts.push({ pattern, handler, order, owner: gen })
        },
        ...bodyReaders(this.bodyLimits),
      },
    }
  }

  /** The route bases a generation mounted. */
  routes(gen: Generation): string[] {
    return [...this.#part(gen).apps.keys()]
  }

  claims(gen: Generation): Claim[] {
    return this.routes(gen).map((key) => ({ kind: 'route base', key }))
  }

  update(current: Generation[]): void {
    this.dispatcher.mount(current.flatMap((gen) => [...this.#part(gen).apps].map(([base, app]) => ({ base, gen, app }))))
    this.dispatcher.intercept(
      new Interceptors(
        current.flatMap((gen) => this.#part(gen).intercepts),
        answerError,
      ),
    )
  }

  stopEntries(): StopEntry[] {
    return this.#listeners.map((l) => ({ id: l.name, phase: Phase.Ingress, timeoutMs: this.stopTimeoutMs, fn: () => l.stop(), force: () => l.force() }))
  }

  describe(gen: Generation): Record<string, unknown> {
    return { routes: this.routes(gen) }
  }
}
