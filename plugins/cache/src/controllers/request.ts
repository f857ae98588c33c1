// Reading what a request says besides its body (the kernel's reader, passed in, reads that):
// TTL, If-Match, paging, with clear 4xx errors.
//
// Under @hono/node-server (the kernel) headers come from the Node request's parsed header
// object. Going through the Fetch `Request` instead builds a Headers object per request,
// which costs a GET more than the lookup it serves. Anywhere else (tests calling
// `app.request`, other runtimes) the Fetch request serves.
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { ValidationError } from '../errors.ts'

/** The Node request behind `c`, when @hono/node-server passed it in the environment. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return incoming && typeof incoming.on === 'function' && typeof incoming.headers === 'object' ? incoming : undefined
}

/** A request header (lower-case name); repeated headers are joined with `, ` as Fetch does. */
export function headerOf(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c)
  if (!incoming) return c.req.header(name)
  const value = incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** A query parameter; skips Hono's query parsing when the URL has no query at all. */
export function queryOf(c: Context, name: string): string | undefined {
  return c.req.url.includes('?') ? c.req.query(name) : undefined
}

/** `?ttl=<seconds>` as milliseconds; undefined when absent. */
export function readTtl(c: Context): number | undefined {
  const raw = queryOf(c, 'ttl')
  if (raw === undefined) return undefined
  const seconds = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new ValidationError(`ttl must be a positive number of seconds, got ${JSON.stringify(raw)}`)
  }
  return Math.round(seconds * 1000)
}

export function readIfMatch(c: Context): string | undefined {
  return headerOf(c, 'if-match')
}

export function readLimit(c: Context): number | undefined {
  const raw = queryOf(c, 'limit')
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!/^\d+$/.test(raw)) throw new ValidationError(`limit must be a positive integer, got ${JSON.stringify(raw)}`)
  return n
}
