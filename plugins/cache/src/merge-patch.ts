// JSON Merge Patch (RFC 7396): objects merge key by key, null removes a key, anything
// else replaces. PATCH uses it so a client can change one field without a read first.
import type { Json } from './document.ts'

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch
  const result: { [key: string]: Json } = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key] ?? null, value)
  }
  return result
}
