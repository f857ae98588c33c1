// The body reader the plugin passes the app, bound to a test's limit: the kernel's readJson.
import type { Context } from 'hono'
import { readJson } from '@armature/core'

export function jsonReader(maxBytes: number) {
  return (c: Context) => readJson(c, { maxBytes, limitName: 'CACHE_MAX_BODY_BYTES' })
}
