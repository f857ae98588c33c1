// HTTP dispatch to plugin generations: the mount table, the in-flight count a retiring
// generation drains, and one metric observation per request. This is the hot path: no
// closure, listener or string key is made per request unless a response is still streaming.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Span } from '@opentelemetry/api'
import type { Hono } from 'hono'
import type { Generation } from '../generation.ts'
import { routeOf } from './http-mount.ts'
import type { KernelMetrics } from '../metrics.ts'
import type { Series } from '../request-metrics.ts'
import { CONSOLE_PATH } from '../console/routes.ts'
import type { HttpTracing } from '../tracing/http.ts'
import type { Entry, Interceptors } from './intercept.ts'

export type RequestEnv = { incoming?: IncomingMessage; outgoing?: ServerResponse }

/** A base path, the generation that serves it and its app (the table is replaced after every swap). */
export interface Mount {
  base: string
  gen: Generation
  app: Hono
}

/** A mount as the dispatcher keeps it: with the metric series its requests found, by path, method and status. */
interface MountEntry extends Mount {
  /** Bounded: cleared when it grows past SERIES_MEMO_SIZE. */
  readonly seriesMemo: Map<string, Map<string, Map<number, Series>>>
}

interface InFlight {
  dispatcher: HttpDispatcher
  mount: MountEntry
  gen: Generation
  app: Hono
  /** What the request is handed to: `app`, or `app` behind the interceptors that match its path. */
  entry: Entry
  method: string
  path: string
  started: number
  env: RequestEnv | undefined
  /** The request's server span; only when tracing is on. */
  span: Span | undefined
}

/** Paths remembered per mount for metric series; past this many, the memo starts over. */
const SERIES_MEMO_SIZE = 1024

/** Responses still streaming when their turn ended, and the request each belongs to. */
const streaming = new WeakMap<ServerResponse, InFlight>()

export class HttpDispatcher {
  #mounts: MountEntry[] = []
  #interceptors: Interceptors | undefined
  #unsettled: InFlight[] = []
  /** Undefined unless spans are exported: then a request costs this one check and no more. */
  readonly #tracing: HttpTracing | undefined

  constructor(
    readonly metrics: KernelMetrics,
    tracing?: HttpTracing,
  ) {
    this.#tracing = tracing
  }

  /** Replaces the mount table; longest base first, so /a/b wins over /a and '/' comes last. */
  mount(mounts: Mount[]): void {
    this.#mounts = mounts.map((m): MountEntry => ({ ...m, seriesMemo: new Map() })).sort((a, b) => b.base.length - a.base.length)
  }

  /** Replaces the interceptors (ctx.http.intercept of the current generations); none costs one check per request. */
  intercept(interceptors: Interceptors): void {
    this.#interceptors = interceptors.size ? interceptors : undefined
  }

  /**
   * Routes a request to the current generation of the plugin whose base matches. Stays
   * synchronous when the plugin's handler is, so @hono/node-server keeps its fast path.
   */
  dispatch(request: Request, path: string, env: RequestEnv | undefined): Response | Promise<Response> {
    const mount = this.#mountFor(path)
    if (mount === undefined) {
      // With no plugin claiming '/', the root leads a browser to the console page.
      if (path === '/' && (request.method === 'GET' || request.method === 'HEAD')) return new Response(null, { status: 302, headers: { location: CONSOLE_PATH } })
      return Response.json({ error: `no route for ${request.method} ${path}` }, { status: 404 })
    }
    const { gen, app } = mount
    gen.enter()
    const entry = this.#interceptors?.covers(path) ? this.#interceptors.entryFor(app) : app
    const flight: InFlight = { dispatcher: this, mount, gen, app, entry, method: request.method, path, started: performance.now(), env, span: undefined }
    let result: Response | Promise<Response>
    try {
      result = this.#tracing === undefined ? entry.fetch(request, env) : this.#tracing.serve(flight, request, env)
    } catch (error) {
      this.landed(flight, 500)
      throw error
    }
    if (result instanceof Promise)
      return result.then(
        (response) => this.#track(flight, response),
        (error) => this.#failed(flight, error),
      )
    return this.#track(flight, result)
  }

  /** A request's response is out (or failed): release the generation and record the metrics. */
  landed(flight: InFlight, status: number): void {
    flight.gen.leave()
    if (flight.span !== undefined) this.#tracing!.end(flight, status)
    this.metrics.requests.record(this.#seriesFor(flight, status), (performance.now() - flight.started) / 1000)
  }

  #track(flight: InFlight, response: Response): Response {
    if (flight.env?.outgoing) {
      // Settled once per event-loop turn for every request of that turn: by then a plain body has
      // been written, and only streaming responses (still writing) need a listener of their own.
      this.#unsettled.push(flight)
      if (this.#unsettled.length === 1) setImmediate(this.#settle)
    } else {
      this.landed(flight, response.status)
    }
    return response
  }

  readonly #settle = (): void => {
    const flights = this.#unsettled
    this.#unsettled = []
    for (const flight of flights) {
      const outgoing = flight.env!.outgoing!
      if (outgoing.writableFinished || outgoing.destroyed) this.landed(flight, outgoing.statusCode)
      else {
        streaming.set(outgoing, flight)
        outgoing.once('close', onResponseClose)
      }
    }
  }

  #failed(flight: InFlight, error: unknown): never {
    this.landed(flight, 500)
    throw error
  }

  #mountFor(path: string): MountEntry | undefined {
    const mounts = this.#mounts
    for (let i = 0; i < mounts.length; i++) {
      const base = mounts[i]!.base
      if (path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47 || base === '/')) return mounts[i]
    }
    return undefined
  }

  /** The series of a path, method and status, found with three lookups of strings already at hand. */
  #seriesFor(flight: InFlight, status: number): Series {
    const { gen, method, path } = flight
    const memo = flight.mount.seriesMemo
    let byMethod = memo.get(path)
    if (!byMethod) {
      if (memo.size >= SERIES_MEMO_SIZE) memo.clear()
      memo.set(path, (byMethod = new Map()))
    }
    let byStatus = byMethod.get(method)
    if (!byStatus) byMethod.set(method, (byStatus = new Map()))
    let series = byStatus.get(status)
    if (!series) {
      const route = status === 404 ? undefined : routeOf(flight.app, method, path)
      series = this.metrics.requests.series(gen.name, route ?? 'unmatched', method, status)
      byStatus.set(status, series)
    }
    return series
  }
}

function onResponseClose(this: ServerResponse): void {
  const flight = streaming.get(this)
  if (flight) {
    streaming.delete(this)
    flight.dispatcher.landed(flight, this.statusCode)
  }
}

/** Paths the kernel answers itself; plugins may not mount under `/_`. */
export function isKernelPath(path: string): boolean {
  // '/_' is reserved for the kernel (plugins may not mount there), so one char code decides most.
  return path.charCodeAt(1) === 95 ? path === '/_armature' || path.startsWith('/_armature/') : path === '/healthz' || path === '/readyz' || path === '/metrics'
}

/** The path of an absolute URL without parsing it (the hot path sees every request). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  const hash = url.indexOf('#', start)
  const end = query === -1 ? hash : hash === -1 ? query : Math.min(query, hash)
  return end === -1 ? url.slice(start) : url.slice(start, end)
}
