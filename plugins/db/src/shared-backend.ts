// One open embedded database per data folder in the process, shared by plugin generations.
//
// PGlite takes seconds to boot and must not be opened twice on one folder. A reload sets up
// the new generation while the old one still serves, so the new one takes a lease on the
// instance the old one opened; only the last lease to go closes it. The map lives on
// globalThis because each generation is a separately bundled module.
import type { DatabaseBackend } from './database.ts'

interface Entry {
  readonly backend: Promise<DatabaseBackend>
  users: number
}

const KEY = Symbol.for('armature.plugin-db.instances')
const registry: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[KEY] as Map<string, Entry> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = new Map<string, Entry>())

export interface BackendLease {
  readonly backend: DatabaseBackend
  /** True when another holder opened it first (this one reuses it). */
  readonly reused: boolean
  /** Gives the lease back; closes the backend when it was the last lease. */
  release(): Promise<void>
}

export async function leaseBackend(key: string, open: () => Promise<DatabaseBackend>): Promise<BackendLease> {
  let entry = registry.get(key)
  const reused = entry !== undefined
  if (!entry) {
    entry = { backend: open(), users: 0 }
    registry.set(key, entry)
    entry.backend.catch(() => registry.delete(key))
  }
  entry.users++
  const held = entry
  let backend: DatabaseBackend
  try {
    backend = await entry.backend
  } catch (error) {
    held.users--
    throw error
  }
  let released = false
  return {
    backend,
    reused,
    async release() {
      if (released) return
      released = true
      held.users--
      if (held.users > 0) return
      if (registry.get(key) === held) registry.delete(key)
      await backend.close()
    },
  }
}
