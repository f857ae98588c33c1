// HTTP and HTTPS as a kernel protocol: the listeners, the kernel's own routes in front, and
// the dispatcher that hands every other path to the plugin whose route base matches.
import { getRequestListener } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hono } from 'hono'
import type { Claim } from '../claims.ts'
import type { HttpLimits } from '../config.ts'
import { answerError, type Generation } from '../generation.ts'
import { Phase } from '../plugin.ts'
import type { Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import { HttpDispatcher, isKernelPath, pathOf, type RequestEnv } from './dispatch.ts'
import { HttpListener, type TlsFiles } from './http.ts'
import { Interceptors } from './intercept.ts'

export interface HttpOpenOptions {
  host: string
  port: number
  httpsPort: number
  tls: TlsFiles | undefined
  limits: HttpLimits
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

export class HttpProtocol implements Protocol {
  readonly name = 'http'
  readonly #listeners: HttpListener[] = []

  constructor(
    readonly dispatcher: HttpDispatcher,
    readonly kernelApp: Hono,
    readonly stopTimeoutMs: number,
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

  claims(gen: Generation): Claim[] {
    return gen.routes.map((key) => ({ kind: 'route base', key }))
  }

  update(current: Generation[]): void {
    this.dispatcher.mount(current.flatMap((gen) => gen.routes.map((base) => ({ base, gen }))))
    this.dispatcher.intercept(
      new Interceptors(
        current.flatMap((g) => g.intercepts),
        answerError,
      ),
    )
  }

  stopEntries(): StopEntry[] {
    return this.#listeners.map((l) => ({ id: l.name, phase: Phase.Ingress, timeoutMs: this.stopTimeoutMs, fn: () => l.stop(), force: () => l.force() }))
  }

  describe(gen: Generation): Record<string, unknown> {
    return { routes: gen.routes }
  }
}
