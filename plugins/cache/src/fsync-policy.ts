// When the mutation log reaches the disk, and when a write is acknowledged.
import { CacheConfigError } from './errors.ts'

/**
 * - always: acknowledged after fdatasync; survives a power loss.
 * - everysec: acknowledged after write(2); synced once a second; a kill -9 loses
 *   nothing, a power loss up to about a second.
 * - no: acknowledged after write(2); the OS syncs when it likes.
 */
export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number]

export function parseFsyncPolicy(value: unknown, key = 'fsync'): FsyncPolicy {
  if (typeof value === 'string' && (FSYNC_POLICIES as readonly string[]).includes(value)) return value as FsyncPolicy
  throw new CacheConfigError(`${key} is ${JSON.stringify(value)}; valid values: ${FSYNC_POLICIES.join(', ')}`)
}
