// Start-up decides which copy of the store to trust: the file (snapshot + log) or the
// Redis dump. The higher sequence number has seen more mutations, so it wins. A tie
// goes to the file, which is local and already open. The reason is kept for the log.
import type { StoreImage } from './image.ts'

export type RestoreSource = 'file' | 'redis' | 'empty'

export interface RedisSide {
  /** The dump, undefined when Redis holds none. */
  readonly image?: StoreImage | undefined
  /** Why Redis could not be read (unreachable, corrupt dump); not set when it could. */
  readonly error?: string | undefined
  /** False when no Redis URL is configured. */
  readonly configured: boolean
}

export interface RestoreDecision {
  readonly source: RestoreSource
  readonly image: StoreImage
  readonly reason: string
  readonly fileSeq: number
  readonly redisSeq: number | undefined
}

export function chooseRestore(file: StoreImage, redis: RedisSide): RestoreDecision {
  const fileSeq = file.seq
  const redisSeq = redis.image?.seq
  const base = { fileSeq, redisSeq }
  const fileOr = (reason: string): RestoreDecision =>
    fileSeq === 0 && file.documents.length === 0
      ? { ...base, source: 'empty', image: file, reason: `${reason}; the data folder is empty too` }
      : { ...base, source: 'file', image: file, reason }
  if (!redis.configured) return fileOr('no Redis configured')
  if (redis.error) return fileOr(`Redis dump unavailable (${redis.error})`)
  if (!redis.image) return fileOr('Redis holds no dump')
  if (redis.image.seq > fileSeq) {
    return { ...base, source: 'redis', image: redis.image, reason: `Redis dump is newer (seq ${redis.image.seq} > file seq ${fileSeq})` }
  }
  if (redis.image.seq === fileSeq) return fileOr(`Redis dump and file are at the same seq ${fileSeq}`)
  return fileOr(`file is newer (seq ${fileSeq} > Redis dump seq ${redis.image.seq})`)
}
