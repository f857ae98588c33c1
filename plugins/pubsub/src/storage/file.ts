// File storage: per partition a folder of segment files (see file-partition.ts: records are read
// back from the files, through a sparse index, with the newest kept in a bounded cache); topic
// metadata in `meta.json`; committed offsets and group generations in `groups.json` (written
// once a second and at close); the next idempotent producer id in `producers.json` (the
// producers' sequences live in the segment frames).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { FilePartition, writeAtomic } from './file-partition.ts'
import type { BrokerStorage, GroupRecord, PartitionStore, TopicMeta } from './storage.ts'

export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number]

/** PUBSUB_FILE_CACHE_BYTES's default: 8 MiB of the newest records per partition. */
export const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024

export class FileStorage implements BrokerStorage {
  readonly kind = 'file'
  readonly #dir: string
  readonly #fsync: FsyncPolicy
  readonly #segmentBytes: number
  readonly #cacheBytes: number
  readonly #partitions = new Map<string, FilePartition>()
  readonly #groups = new Map<string, GroupRecord>()
  readonly #dirtyGroups = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> | undefined

  /** `cacheBytes`: written records each partition keeps in memory beside its files (the newest ones). */
  constructor(options: { dir: string; fsync: FsyncPolicy; segmentBytes?: number; cacheBytes?: number }) {
    this.#dir = options.dir
    this.#fsync = options.fsync
    this.#segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024
    this.#cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES
    mkdirSync(join(this.#dir, 'topics'), { recursive: true })
    this.#loadGroups()
    // everysec syncs the logs once a second; every policy writes committed offsets once a second.
    this.#timer = setInterval(() => this.#periodic(), 1000)
    this.#timer.unref()
  }

  loadTopics(): TopicMeta[] {
    const root = join(this.#dir, 'topics')
    return readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'meta.json')))
      .map((name) => JSON.parse(readFileSync(join(root, name, 'meta.json'), 'utf8')) as TopicMeta)
  }

  saveTopic(meta: TopicMeta): void {
    const dir = join(this.#dir, 'topics', meta.name)
    mkdirSync(dir, { recursive: true })
    writeAtomic(join(dir, 'meta.json'), JSON.stringify(meta))
  }

  deleteTopic(name: string): void {
    for (const key of [...this.#partitions.keys()]) if (key.startsWith(`${name}/`)) this.#partitions.delete(key)
    rmSync(join(this.#dir, 'topics', name), { recursive: true, force: true })
  }

  openPartition(topic: string, partition: number): PartitionStore {
    const store = new FilePartition(join(this.#dir, 'topics', topic, String(partition)), { segmentBytes: this.#segmentBytes, cacheBytes: this.#cacheBytes }, () =>
      this.#scheduleWrite(),
    )
    this.#partitions.set(`${topic}/${partition}`, store)
    return store
  }

  loadNextProducerId(): number {
    const path = join(this.#dir, 'producers.json')
    return existsSync(path) ? Number((JSON.parse(readFileSync(path, 'utf8')) as { nextProducerId: number }).nextProducerId) || 1 : 1
  }

  saveNextProducerId(next: number): void {
    // Ids are handed out seldom (once per producer), so each is written through at once.
    const path = join(this.#dir, 'producers.json')
    writeAtomic(path, JSON.stringify({ nextProducerId: next }), true)
  }

  loadGroups(): GroupRecord[] {
    return [...this.#groups.values()].map((g) => ({ ...g, offsets: [...g.offsets] }))
  }

  saveOffset(group: string, topic: string, partition: number, offset: number): void {
    const record = this.#group(group)
    const existing = record.offsets.find((o) => o.topic === topic && o.partition === partition)
    if (existing) existing.offset = offset
    else record.offsets.push({ topic, partition, offset })
    this.#dirtyGroups.add(group)
  }

  saveGeneration(group: string, generation: number): void {
    this.#group(group).generation = generation
    this.#dirtyGroups.add(group)
  }

  /** The write (and with always the sync) of what was appended this turn; a produce is acknowledged after it. */
  durable(): Promise<void> | undefined {
    return this.#writing
  }

  /**
   * Group write: the frames every produce appended in this turn of the event loop (all the
   * requests its reads brought) go to the file in one write per partition, right after the
   * turn's I/O; with always one sync serves them all. Each produce is acknowledged after it.
   */
  #scheduleWrite(): Promise<void> {
    if (this.#writing) return this.#writing
    const writing = (this.#writing = new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        this.#writing = undefined
        try {
          for (const p of this.#partitions.values()) {
            p.write()
            if (this.#fsync === 'always' && p.dirty) p.sync()
          }
          resolve()
        } catch (error) {
          reject(error)
        }
      }),
    ))
    // An append nobody awaits (a delayed or dead-letter one) must not fail the process; its frames are written with the next write.
    writing.catch(() => {})
    return writing
  }

  async flush(): Promise<void> {
    for (const p of this.#partitions.values()) p.sync()
    this.#writeGroups()
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
    for (const p of this.#partitions.values()) await p.close()
  }

  #periodic(): void {
    if (this.#fsync === 'everysec') for (const p of this.#partitions.values()) p.sync()
    if (this.#dirtyGroups.size) this.#writeGroups()
  }

  #group(id: string): GroupRecord {
    let record = this.#groups.get(id)
    if (!record) this.#groups.set(id, (record = { id, generation: 0, offsets: [] }))
    return record
  }

  #loadGroups(): void {
    const path = join(this.#dir, 'groups.json')
    if (!existsSync(path)) return
    for (const g of JSON.parse(readFileSync(path, 'utf8')) as GroupRecord[]) this.#groups.set(g.id, g)
  }

  #writeGroups(): void {
    const path = join(this.#dir, 'groups.json')
    writeAtomic(path, JSON.stringify([...this.#groups.values()]), true)
    this.#dirtyGroups.clear()
  }
}
