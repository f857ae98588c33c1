// Upstreams and an admin client for the proxy's wire tests.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

export const PROXY_DIR = fileURLToPath(new URL('..', import.meta.url))
export const DB_DIR = fileURLToPath(new URL('../../db', import.meta.url))
/** The proxy uses the db plugin, so every kernel that loads it loads db too (embedded PGlite without DATABASE_URL). */
export const PLUGINS = [DB_DIR, PROXY_DIR]
export const TOKEN = 'proxy-test-token'

export interface Upstream {
  name: string
  url: string
  port: number
  /** Requests being answered right now. */
  inFlight: () => number
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; bodyBytes: number }>
  server: http.Server
  close(): Promise<void>
}

/**
 * A small upstream: answers `{ upstream, method, url, headers, bodyBytes }`; `/slow?ms=N`
 * (under any prefix) waits N ms first.
 */
export async function startUpstream(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  let inFlight = 0
  const seen: Upstream['seen'] = []
  const server = http.createServer((req, res) => {
    if (handler) return handler(req, res)
    inFlight++
    let bodyBytes = 0
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length))
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, bodyBytes })
      const ms = /\/slow\b/.test(req.url!) ? Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 500) : 0
      setTimeout(() => {
        inFlight--
        res.setHeader('keep-alive', 'timeout=77')
        res.setHeader('x-upstream', name)
        res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers, bodyBytes }))
      }, ms)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    inFlight: () => inFlight,
    seen,
    server,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** A port nothing listens on (bound, read, released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface Answer {
  status: number
  body: any
}

/** `token` '' sends no Authorization header. */
export function adminClient(baseUrl: string, token = TOKEN) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(`${baseUrl}/proxy${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {}
    return { status: response.status, body: parsed }
  }
  return {
    call,
    create: (spec: unknown) => call('POST', '/servers', spec),
    list: () => call('GET', '/servers'),
    get: (name: string) => call('GET', `/servers/${name}`),
    patch: (name: string, body: unknown) => call('PATCH', `/servers/${name}`, body),
    remove: (name: string) => call('DELETE', `/servers/${name}`),
  }
}

/** Registers a server on any free port and returns its URL. */
export async function register(admin: ReturnType<typeof adminClient>, spec: Record<string, unknown>): Promise<string> {
  const answer = await admin.create({ listen: { port: 0, host: '127.0.0.1' }, ...spec })
  if (answer.status !== 201) throw new Error(`register ${JSON.stringify(spec)}: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body.url
}

/** A request through node:http, for what fetch will not send (Connection headers, a chosen agent). */
export function request(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; agent?: http.Agent } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; json: () => any; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text), reusedSocket: req.reusedSocket })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
