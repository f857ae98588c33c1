// One open Cache per data folder in the process, shared by plugin generations.
//
// A reload sets up the new generation while the old one still serves, so both would
// otherwise open the same folder and write interleaved logs. The new generation takes
// a lease on the instance the old one opened; only the last lease to go closes it.
// The map lives on globalThis because each generation is a separately bundled module.
import type { Cache } from './cache.ts'

interface Entry {
  readonly cache: Promise<Cache>
  users: number
}

const KEY = Symbol.for('armature.plugin-cache.instances')
const registry: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[KEY] as Map<string, Entry> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = new Map<string, Entry>())

export interface CacheLease {
  readonly cache: Cache
  /** True when another holder opened it first (this one reuses it). */
  readonly reused: boolean
  /** Gives the lease back; true when it was the last one, so the caller must close the cache. */
  release(): boolean
}

export async function leaseCache(dataDir: string, open: () => Promise<Cache>): Promise<CacheLease> {
  let entry = registry.get(dataDir)
  const reused = entry !== undefined
  if (!entry) {
    entry = { cache: open(), users: 0 }
    registry.set(dataDir, entry)
    entry.cache.catch(() => registry.delete(dataDir))
  }
  entry.users++
  const cache = await entry.cache
  let released = false
  const held = entry
  return {
    cache,
    reused,
    release() {
      if (released) return false
      released = true
      held.users--
      if (held.users > 0) return false
      registry.delete(dataDir)
      return true
    },
  }
}
