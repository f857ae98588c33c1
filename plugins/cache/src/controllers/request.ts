// Reading what a request says: its JSON body, TTL and If-Match, with clear 4xx errors.
import type { Context } from 'hono'
import type { Json } from '../document.ts'
import { HttpError } from './errors.ts'

export async function readJson(c: Context): Promise<Json> {
  const type = c.req.header('content-type')
  if (type && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, `content-type ${JSON.stringify(type)} is not JSON; send application/json`)
  }
  const text = await c.req.text()
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; send a JSON value')
  try {
    return JSON.parse(text) as Json
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`)
  }
}

/** `?ttl=<seconds>` as milliseconds; undefined when absent. */
export function readTtl(c: Context): number | undefined {
  const raw = c.req.query('ttl')
  if (raw === undefined) return undefined
  const seconds = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new HttpError(400, `ttl must be a positive number of seconds, got ${JSON.stringify(raw)}`)
  }
  return Math.round(seconds * 1000)
}

export function readIfMatch(c: Context): string | undefined {
  return c.req.header('if-match')
}

export function readLimit(c: Context): number | undefined {
  const raw = c.req.query('limit')
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `limit must be a positive integer, got ${JSON.stringify(raw)}`)
  return n
}
