// The real Redis the tests use, and a key prefix unique to this run that is removed at the end.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

export function redisTarget(): { host: string; port: number } {
  const u = new URL(REDIS_URL)
  return { host: u.hostname || '127.0.0.1', port: Number(u.port) || 6379 }
}

export function uniquePrefix(label: string): string {
  return `armature-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}`
}

/** A direct client for assertions; `cleanup` deletes every key under the prefix and quits. */
export function testRedis(prefix: string): Redis & { cleanup(): Promise<void> } {
  const redis = new Redis(REDIS_URL, { lazyConnect: false }) as Redis & { cleanup(): Promise<void> }
  redis.cleanup = async () => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length) await redis.del(...keys)
    } while (cursor !== '0')
    await redis.quit()
  }
  return redis
}
