// The base path a plugin's HTTP routes and WebSocket paths hang under (`/<name>` unless chosen).
import { PluginError } from '../errors.ts'

/** A base as written by a plugin, checked and without its trailing slashes. */
export function normalizeBase(base: string, plugin: string): string {
  if (typeof base !== 'string' || !base.startsWith('/')) throw new PluginError(plugin, `route base ${JSON.stringify(base)} must start with /`)
  const trimmed = base.length > 1 ? base.replace(/\/+$/, '') : base
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed.includes('//')) {
    throw new PluginError(plugin, `route base ${JSON.stringify(base)} may hold only letters, digits, '.', '_', '~', '-' and single '/'`)
  }
  if (trimmed === '/_armature' || trimmed.startsWith('/_armature/')) throw new PluginError(plugin, `route base ${trimmed} is reserved for the kernel`)
  return trimmed
}
