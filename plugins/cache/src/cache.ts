// The cache as a whole: the store, its data folder and its Redis dump, with the
// timers that checkpoint and dump it. This is what the plugin, the CLI and the tests
// open; it knows nothing of HTTP.
import type { Redis } from 'ioredis'
import { DataDir, type RecoveryReport } from './data-dir.ts'
import { Coalesced } from './coalesce.ts'
import { CorruptDataError } from './errors.ts'
import type { FsyncPolicy } from './fsync-policy.ts'
import { silentLogger, type CacheLogger } from './logger.ts'
import { RedisDump, type DumpWrite } from './redis-dump.ts'
import { connectRedis, createRedis } from './redis-client.ts'
import { chooseRestore, type RedisSide, type RestoreDecision } from './restore.ts'
import { Store, type CollectionStats } from './store.ts'

export interface CacheOptions {
  dataDir: string
  fsync: FsyncPolicy
  /** Redis URL; empty or undefined: the file alone. */
  redisUrl?: string | undefined
  /** Key prefix of the dump in Redis. */
  redisPrefix?: string
  /** 0 disables the periodic snapshot (compaction). */
  snapshotEveryMs?: number
  /** 0 disables the periodic Redis dump (the final one at close still runs). */
  dumpEveryMs?: number
  /** How often expired documents are removed. */
  sweepEveryMs?: number
  /** How long start-up waits for Redis before restoring from the file alone. */
  redisConnectTimeoutMs?: number
  log?: CacheLogger
  now?: () => number
}

export interface RestoreReport {
  readonly source: RestoreDecision['source']
  readonly reason: string
  readonly seq: number
  readonly fileSeq: number
  readonly redisSeq: number | undefined
  readonly file: RecoveryReport
}

export interface CacheStats {
  readonly seq: number
  readonly documents: number
  readonly collections: CollectionStats[]
  readonly fsync: FsyncPolicy
  readonly file: { readonly dir: string; readonly segment: string; readonly checkpointSeq: number }
  readonly redis: {
    readonly configured: boolean
    readonly status: string
    readonly dumpSeq: number | undefined
    readonly lastDumpAt: number | undefined
    readonly lastError: string | undefined
  }
  readonly restore: RestoreReport
}

export class Cache {
  readonly store: Store
  readonly restore: RestoreReport
  readonly #options: CacheOptions
  readonly #dataDir: DataDir
  readonly #redis: Redis | undefined
  readonly #dump: RedisDump | undefined
  readonly #log: CacheLogger
  readonly #timers: NodeJS.Timeout[] = []
  #checkpointSeq: number
  #dumpSeq: number | undefined
  #lastDumpAt: number | undefined
  #lastDumpError: string | undefined
  readonly #dumps = new Coalesced(() => this.#runDump())
  readonly #checkpoints = new Coalesced(() => this.#runCheckpoint())
  #redisClosed = false
  #fileClosed = false

  private constructor(init: {
    options: CacheOptions
    store: Store
    dataDir: DataDir
    redis: Redis | undefined
    dump: RedisDump | undefined
    restore: RestoreReport
    log: CacheLogger
  }) {
    this.#options = init.options
    this.store = init.store
    this.#dataDir = init.dataDir
    this.#redis = init.redis
    this.#dump = init.dump
    this.restore = init.restore
    this.#log = init.log
    this.#checkpointSeq = init.restore.file.snapshotSeq
    this.#dumpSeq = init.restore.redisSeq
  }

  static async open(options: CacheOptions): Promise<Cache> {
    const log = options.log ?? silentLogger
    const { dataDir, recovered } = await DataDir.open(options.dataDir, options.fsync)
    for (const t of recovered.report.torn) {
      log.warn({ file: t.file, offset: t.offset, bytes: t.bytes, reason: t.reason }, 'dropped a torn record at the end of the mutation log')
    }

    let redis: Redis | undefined
    let dump: RedisDump | undefined
    let side: RedisSide = { configured: false }
    if (options.redisUrl) {
      let lastLogged = ''
      redis = createRedis(options.redisUrl, {
        connectTimeoutMs: options.redisConnectTimeoutMs,
        // Reconnect attempts repeat the same error; log each distinct one once.
        onError: (err) => {
          if (err.message !== lastLogged) log.warn({ err: err.message }, 'Redis connection error')
          lastLogged = err.message
        },
      })
      redis.on('ready', () => (lastLogged = ''))
      dump = new RedisDump(redis, options.redisPrefix ?? 'armature:cache')
      try {
        await connectRedis(redis, options.redisConnectTimeoutMs ?? 2000)
        side = { configured: true, image: await dump.read() }
      } catch (err) {
        side = { configured: true, error: (err as Error).message }
        // An undecodable dump would block every later dump (the pointer only moves
        // forward), and it can never be restored anyway: remove it.
        if (err instanceof CorruptDataError) {
          log.error({ err: side.error }, 'the Redis dump is corrupt; removing it')
          await dump.clear().catch(() => {})
        }
      }
    }

    const decision = chooseRestore(recovered.image, side)
    const store = new Store(options.now ? { now: options.now } : {})
    // The file must hold what memory holds before the first new mutation is logged: a Redis
    // image is written to the folder first, and only then loaded (a failed write loads nothing).
    if (decision.source === 'redis') await dataDir.checkpoint(decision.image)
    store.load(decision.image)
    store.setJournal(dataDir)

    const restore: RestoreReport = {
      source: decision.source,
      reason: decision.reason,
      seq: decision.image.seq,
      fileSeq: decision.fileSeq,
      redisSeq: decision.redisSeq,
      file: recovered.report,
    }
    log.info(
      { source: restore.source, seq: restore.seq, fileSeq: restore.fileSeq, redisSeq: restore.redisSeq, documents: store.size },
      `restored from ${restore.source}: ${restore.reason}`,
    )

    const cache = new Cache({ options, store, dataDir, redis, dump, restore, log })
    if (decision.source === 'redis') cache.#checkpointSeq = decision.image.seq
    // Redis behind the file (or empty): bring it up to date now rather than at the first tick.
    if (dump && redis?.status === 'ready' && decision.image.seq > (side.image?.seq ?? -1)) await cache.dumpToRedis()
    cache.#startTimers()
    return cache
  }

  get redisConfigured(): boolean {
    return this.#dump !== undefined
  }

  /**
   * Writes the current image to Redis when it has changed since the last dump.
   * Concurrent calls share one dump. Failures are logged and returned as undefined:
   * the file log holds every mutation meanwhile.
   */
  dumpToRedis(): Promise<DumpWrite | undefined> {
    if (!this.#dump || this.#redisClosed) return Promise.resolve(undefined)
    return this.#dumps.run()
  }

  async #runDump(): Promise<DumpWrite | undefined> {
    const image = this.store.image()
    if (this.#dumpSeq !== undefined && image.seq <= this.#dumpSeq) return undefined
    try {
      const result = await this.#dump!.write(image)
      const recovered = this.#lastDumpError !== undefined
      this.#dumpSeq = result.seq
      this.#lastDumpAt = Date.now()
      this.#lastDumpError = undefined
      if (recovered) this.#log.info({ seq: result.seq, bytes: result.bytes }, 'Redis dump caught up after an outage')
      return result
    } catch (err) {
      const message = (err as Error).message
      if (this.#lastDumpError !== message) this.#log.warn({ err: message, seq: image.seq }, 'Redis dump failed; the file log keeps every mutation until the next dump')
      this.#lastDumpError = message
      return undefined
    }
  }

  /** Snapshot + compaction of the data folder, when there were mutations since the last one. */
  checkpoint(): Promise<void> {
    return this.#checkpoints.run()
  }

  async #runCheckpoint(): Promise<void> {
    if (this.#fileClosed) return
    const image = this.store.image()
    if (image.seq === this.#checkpointSeq) return
    try {
      await this.#dataDir.checkpoint(image)
      this.#checkpointSeq = image.seq
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'snapshot failed; the mutation log still holds every write')
    }
  }

  stats(): CacheStats {
    const collections = this.store.collections()
    return {
      seq: this.store.seq,
      documents: collections.reduce((n, c) => n + c.documents, 0),
      collections,
      fsync: this.#options.fsync,
      file: { dir: this.#dataDir.dir, segment: this.#dataDir.currentSegment, checkpointSeq: this.#checkpointSeq },
      redis: {
        configured: this.#dump !== undefined,
        status: this.#redis?.status ?? 'not configured',
        dumpSeq: this.#dumpSeq,
        lastDumpAt: this.#lastDumpAt,
        lastError: this.#lastDumpError,
      },
      restore: this.restore,
    }
  }

  /** Stops timers and refuses writes; what is in memory stays readable. */
  stopWrites(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t)
    this.store.close()
  }

  /** Shutdown, Flush phase: no more writes, one last dump to Redis. Returns whether Redis now holds the final state. */
  async finalDump(): Promise<boolean> {
    this.stopWrites()
    if (!this.#dump) return false
    await this.dumpToRedis()
    return this.#dumpSeq === this.store.seq
  }

  async closeRedis(): Promise<void> {
    if (this.#redisClosed || !this.#redis) return
    await this.dumpToRedis()
    this.#redisClosed = true
    await this.#redis.quit().catch(() => this.#redis!.disconnect())
  }

  /** Shutdown, Final phase: a last snapshot, then the log is synced and closed. */
  async closeFile(): Promise<void> {
    if (this.#fileClosed) return
    this.stopWrites()
    await this.checkpoint()
    this.#fileClosed = true
    await this.#dataDir.close()
  }

  async close(): Promise<void> {
    await this.finalDump()
    await this.closeRedis()
    await this.closeFile()
  }

  /** Waits until every acknowledged mutation is on disk (tests, `dump`). */
  flush(): Promise<void> {
    return this.#dataDir.flush()
  }

  #startTimers(): void {
    const every = (ms: number | undefined, fn: () => unknown) => {
      if (!ms || ms <= 0) return
      const t = setInterval(fn, ms)
      t.unref()
      this.#timers.push(t)
    }
    every(this.#options.snapshotEveryMs ?? 60_000, () => void this.checkpoint())
    every(this.#options.dumpEveryMs ?? 30_000, () => void this.dumpToRedis())
    every(this.#options.sweepEveryMs ?? 1000, () => this.store.sweepExpired())
  }
}
