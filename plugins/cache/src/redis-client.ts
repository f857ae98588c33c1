// The Redis connection used for dumps. Commands fail at once while Redis is down
// (no offline queue, one attempt) because a dump that waits is worse than one that
// fails: the file log already holds every mutation, and the next dump catches up.
// ioredis keeps reconnecting in the background.
import { Redis } from 'ioredis'

export interface RedisClientOptions {
  connectTimeoutMs?: number
  onError?: (err: Error) => void
}

export function createRedis(url: string, options: RedisClientOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  })
  // Without a listener ioredis prints every failed reconnect as an unhandled error.
  redis.on('error', (err: Error) => options.onError?.(err))
  return redis
}

/** Connects, or rejects after the timeout; reconnection continues in the background either way. */
export async function connectRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection to Redis within ${timeoutMs} ms`)), timeoutMs)
  })
  const ready = new Promise<void>((resolve) => redis.once('ready', () => resolve()))
  try {
    if (redis.status === 'wait') redis.connect().catch(() => {})
    await Promise.race([ready, timeout])
  } finally {
    clearTimeout(timer)
  }
}
