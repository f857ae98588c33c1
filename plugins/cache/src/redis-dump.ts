// The whole store as one versioned dump in Redis.
//
//   <prefix>:dump:<seq>    the image at sequence <seq> (JSON)
//   <prefix>:current       the <seq> of the complete dump readers should use
//
// A dump is written under a new key first, then one Lua script (atomic in Redis)
// moves the pointer and deletes the previous dump. A crash mid-write leaves the
// pointer on the old, complete dump; the orphan key carries an expiry that the switch
// removes, so orphans clean themselves up. The pointer only moves forward.
import type { Redis } from 'ioredis'
import { decodeImage, encodeImage, type StoreImage } from './image.ts'

/** Orphaned dump keys (written, never switched to) expire after this long. */
const ORPHAN_TTL_MS = 3_600_000

const SWITCH = `
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('PERSIST', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1])
if current then redis.call('DEL', ARGV[2] .. current) end
return 1
`

// Pointer and dump are read in one script, so a concurrent switch cannot delete the
// dump between reading the pointer and reading the dump.
const READ = `
local current = redis.call('GET', KEYS[1])
if not current then return nil end
return { current, redis.call('GET', ARGV[1] .. current) }
`

export interface DumpWrite {
  /** False when Redis already held a dump at this sequence number or later. */
  readonly written: boolean
  readonly seq: number
  readonly bytes: number
}

export class RedisDump {
  readonly pointerKey: string
  readonly dumpKeyPrefix: string

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {
    this.pointerKey = `${prefix}:current`
    this.dumpKeyPrefix = `${prefix}:dump:`
  }

  /** The sequence number of the current dump, or undefined when there is none. */
  async currentSeq(): Promise<number | undefined> {
    const value = await this.redis.get(this.pointerKey)
    return value === null ? undefined : Number(value)
  }

  async write(image: StoreImage): Promise<DumpWrite> {
    const current = await this.currentSeq()
    if (current !== undefined && current >= image.seq) return { written: false, seq: current, bytes: 0 }
    const payload = encodeImage(image)
    const key = this.dumpKeyPrefix + image.seq
    await this.redis.set(key, payload, 'PX', ORPHAN_TTL_MS)
    const switched = (await this.redis.eval(SWITCH, 2, this.pointerKey, key, String(image.seq), this.dumpKeyPrefix)) as number
    return { written: switched === 1, seq: image.seq, bytes: Buffer.byteLength(payload) }
  }

  /** The current dump, or undefined when Redis holds none. Throws CorruptDataError on a bad dump. */
  async read(): Promise<StoreImage | undefined> {
    const result = (await this.redis.eval(READ, 1, this.pointerKey, this.dumpKeyPrefix)) as [string, string | null] | null
    if (!result) return undefined
    const [seq, payload] = result
    const source = `redis ${this.dumpKeyPrefix}${seq}`
    if (payload === null) return undefined
    const image = decodeImage(payload, source)
    return image
  }

  /** Removes the pointer and the current dump (tests and `reset` tooling). */
  async clear(): Promise<void> {
    const current = await this.redis.get(this.pointerKey)
    await this.redis.del(this.pointerKey, ...(current ? [this.dumpKeyPrefix + current] : []))
  }
}
