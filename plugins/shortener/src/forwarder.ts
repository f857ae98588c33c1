// Proxy mode: sends one request to the link's destination and hands back the streaming answer.
//
// Bodies stream both ways (nothing is buffered whole). Hop-by-hop headers describe one
// connection and must not cross (RFC 9110 section 7.6.1); X-Forwarded-* tell the destination
// who asked. Only the wait for response headers is timed; a long download is not cut short.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Readable } from 'node:stream'
import { UpstreamTimeoutError, UpstreamUnreachableError } from './errors.ts'

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings',
])

/** Header pairs minus hop-by-hop ones, including those the `Connection` header names. */
export function endToEnd(headers: Iterable<readonly [string, string]>): Array<[string, string]> {
  const pairs = [...headers].map(([k, v]) => [k.toLowerCase(), v] as [string, string])
  const named = new Set(
    pairs.filter(([k]) => k === 'connection').flatMap(([, v]) => v.toLowerCase().split(',').map((t) => t.trim())),
  )
  return pairs.filter(([k]) => !HOP_BY_HOP.has(k) && !named.has(k))
}

export interface ForwardRequest {
  method: string
  target: URL
  headers: Iterable<readonly [string, string]>
  body: Readable | null
  clientAddress: string
  /** How the client reached this service: `http` or `https`, and the Host it used. */
  proto: string
  host: string | undefined
  timeoutMs: number
  signal?: AbortSignal
}

export interface ForwardResponse {
  status: number
  headers: Array<[string, string]>
  body: IncomingMessage
}

export function forward(req: ForwardRequest): Promise<ForwardResponse> {
  const headers: Record<string, string | string[]> = {}
  for (const [key, value] of endToEnd(req.headers)) {
    if (key === 'host' || key.startsWith('x-forwarded-')) continue
    const prior = headers[key]
    headers[key] = prior === undefined ? value : ([] as string[]).concat(prior, value)
  }
  const priorFor = [...req.headers].find(([k]) => k.toLowerCase() === 'x-forwarded-for')?.[1]
  headers['x-forwarded-for'] = priorFor ? `${priorFor}, ${req.clientAddress}` : req.clientAddress
  headers['x-forwarded-proto'] = req.proto
  if (req.host) headers['x-forwarded-host'] = req.host
  headers.host = req.target.host

  const send = req.target.protocol === 'https:' ? httpsRequest : httpRequest
  const target = req.target.toString()
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      outgoing.destroy()
      req.body?.destroy()
      reject(error)
    }
    const outgoing = send(req.target, { method: req.method, headers, signal: req.signal })
    const timer = setTimeout(() => fail(new UpstreamTimeoutError(target, req.timeoutMs)), req.timeoutMs)
    outgoing.on('error', (error) => fail(new UpstreamUnreachableError(target, error)))
    outgoing.on('response', (response) => {
      if (settled) return void response.destroy()
      settled = true
      clearTimeout(timer)
      const pairs: Array<[string, string]> = []
      for (let i = 0; i < response.rawHeaders.length; i += 2) pairs.push([response.rawHeaders[i]!, response.rawHeaders[i + 1]!])
      resolve({ status: response.statusCode ?? 502, headers: endToEnd(pairs), body: response })
    })
    if (req.body) {
      req.body.on('error', (error) => fail(new UpstreamUnreachableError(target, error)))
      req.body.pipe(outgoing)
    } else outgoing.end()
  })
}
