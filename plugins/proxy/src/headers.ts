// Header rewriting between client and upstream (RFC 9110 section 7.6.1): hop-by-hop
// headers describe one connection and must not cross the proxy; X-Forwarded-* say who asked.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
])

/**
 * The header names a `Connection` value lists beyond the standard hop-by-hop ones, or
 * undefined for the usual `keep-alive` / `close` (so no set is built per message).
 */
function namedByConnection(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined
  let named: Set<string> | undefined
  for (const raw of value.toLowerCase().split(',')) {
    const token = raw.trim()
    if (token && token !== 'close' && !HOP_BY_HOP.has(token)) (named ??= new Set()).add(token)
  }
  return named
}

/** Headers minus hop-by-hop ones, including any the `Connection` header names. */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection
  const named = namedByConnection(Array.isArray(connection) ? connection.join(',') : connection)
  const out: OutgoingHttpHeaders = {}
  for (const key in headers) {
    const value = headers[key]
    if (value === undefined || HOP_BY_HOP.has(key) || named?.has(key)) continue
    out[key] = value
  }
  return out
}

/**
 * An upstream's raw response headers (name, value, name, value, as undici hands them over)
 * minus hop-by-hop ones, as the flat list `writeHead` takes.
 */
export function endToEndRaw(raw: ReadonlyArray<Buffer | string>): string[] {
  let named: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === 10 && key.toString('latin1').toLowerCase() === 'connection') {
      const more = namedByConnection(raw[i + 1]!.toString('latin1'))
      if (more) for (const token of more) (named ??= new Set()).add(token)
    }
  }
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!.toString('latin1')
    const lower = key.toLowerCase()
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue
    out.push(key, raw[i + 1]!.toString('latin1'))
  }
  return out
}

/**
 * What the upstream receives: end-to-end headers, its own Host, and X-Forwarded-For/-Proto/-Host.
 * The proto is the caller's connection: https when it came in over TLS.
 */
export function upstreamRequestHeaders(req: IncomingMessage, target: URL): OutgoingHttpHeaders {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true
  const headers = endToEnd(req.headers)
  const client = req.socket.remoteAddress ?? ''
  const prior = req.headers['x-forwarded-for']
  headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client
  headers['x-forwarded-proto'] = secure ? 'https' : 'http'
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host
  // Upstreams route and sign by their own name; the caller's Host travels in X-Forwarded-Host.
  headers.host = target.host
  return headers
}
