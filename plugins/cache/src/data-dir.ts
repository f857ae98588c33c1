// The file side of persistence: a snapshot plus log segments in one folder.
//
//   snapshot.json                      image at sequence S
//   log-0000000000000001.aof ...       segments, named by their first sequence number
//
// A checkpoint switches appends to a new segment in the same synchronous step that
// captured the image, writes the snapshot, and only then deletes the older segments
// (compaction). A crash between those steps leaves an older snapshot plus segments that
// still cover everything after it, so restore (snapshot + replay) always works.
import { mkdir, readdir, rm, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { FileLog, readLog } from './file-log.ts'
import type { FsyncPolicy } from './fsync-policy.ts'
import { emptyImage, IMAGE_FORMAT, IMAGE_VERSION, type StoreImage } from './image.ts'
import type { Journal, Mutation } from './mutation.ts'
import { readSnapshot, writeSnapshot } from './snapshot.ts'
import type { StoredDocument } from './document.ts'

const SEGMENT = /^log-(\d{16})\.aof$/

export function segmentName(firstSeq: number): string {
  return `log-${String(firstSeq).padStart(16, '0')}.aof`
}

export interface RecoveryReport {
  readonly snapshotSeq: number
  readonly segments: number
  readonly replayed: number
  readonly seq: number
  /** Torn tails found (and, when repairing, truncated). */
  readonly torn: { file: string; offset: number; bytes: number; reason: string }[]
}

export interface Recovered {
  readonly image: StoreImage
  readonly report: RecoveryReport
}

/**
 * Rebuilds the image from the folder: snapshot, then every segment in order.
 * With `repair`, a torn tail is truncated so new appends follow a good record;
 * without it (offline readers) the files are left untouched.
 */
export async function recover(dir: string, options: { repair: boolean }): Promise<Recovered> {
  const snapshot = (await readSnapshot(dir)) ?? emptyImage()
  const docs = new Map<string, StoredDocument>()
  for (const doc of snapshot.documents) docs.set(key(doc.collection, doc.id), doc)
  let seq = snapshot.seq
  let replayed = 0
  const torn: RecoveryReport['torn'] = []
  const segments = await listSegments(dir)
  for (const name of segments) {
    const path = join(dir, name)
    const contents = await readLog(path)
    if (contents.torn) {
      torn.push({ file: path, ...contents.torn })
      if (options.repair) await truncate(path, contents.goodBytes)
    }
    for (const m of contents.mutations) {
      if (m.seq <= seq) continue
      applyTo(docs, m)
      seq = m.seq
      replayed++
    }
  }
  const image: StoreImage = { format: IMAGE_FORMAT, version: IMAGE_VERSION, seq, createdAt: snapshot.createdAt, documents: [...docs.values()] }
  return { image, report: { snapshotSeq: snapshot.seq, segments: segments.length, replayed, seq, torn } }
}

function key(collection: string, id: string): string {
  return `${collection}\u0000${id}`
}

function applyTo(docs: Map<string, StoredDocument>, m: Mutation): void {
  if (m.op === 'put') docs.set(key(m.doc.collection, m.doc.id), m.doc)
  else docs.delete(key(m.collection, m.id))
}

async function listSegments(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[]
    throw err
  })
  return names.filter((n) => SEGMENT.test(n)).sort()
}

/** The writable data folder: the store's journal, plus checkpoints. */
export class DataDir implements Journal {
  readonly dir: string
  readonly policy: FsyncPolicy
  #log: FileLog
  #checkpointing: Promise<void> | undefined

  private constructor(dir: string, policy: FsyncPolicy, log: FileLog) {
    this.dir = dir
    this.policy = policy
    this.#log = log
  }

  /** Recovers the folder (repairing a torn tail) and opens a segment for the mutations after it. */
  static async open(dir: string, policy: FsyncPolicy): Promise<{ dataDir: DataDir; recovered: Recovered }> {
    await mkdir(dir, { recursive: true })
    const recovered = await recover(dir, { repair: true })
    const log = new FileLog(join(dir, segmentName(recovered.image.seq + 1)), policy)
    return { dataDir: new DataDir(dir, policy, log), recovered }
  }

  append(mutation: Mutation): Promise<void> {
    return this.#log.append(mutation)
  }

  /** The segment currently appended to. */
  get currentSegment(): string {
    return this.#log.path
  }

  /**
   * Makes `image` the folder's new base: the next mutation (seq image.seq+1) goes to a
   * fresh segment, the snapshot is written, and older segments are deleted. Call it in
   * the same synchronous step that took the image; one checkpoint runs at a time.
   */
  checkpoint(image: StoreImage): Promise<void> {
    const previous = this.#log
    const nextPath = join(this.dir, segmentName(image.seq + 1))
    // Same first sequence number (no writes since the segment opened): keep appending to it.
    const rotate = nextPath !== previous.path
    if (rotate) this.#log = new FileLog(nextPath, this.policy)
    const run = async () => {
      await this.#checkpointing?.catch(() => {})
      if (rotate) await previous.close()
      await writeSnapshot(this.dir, image)
      const keep = this.#log.path
      for (const name of await listSegments(this.dir)) {
        const path = join(this.dir, name)
        if (path !== keep && Number(SEGMENT.exec(name)![1]) <= image.seq) await rm(path, { force: true })
      }
    }
    const done = run()
    this.#checkpointing = done
    return done
  }

  async flush(): Promise<void> {
    await this.#log.flush()
  }

  async close(): Promise<void> {
    await this.#checkpointing?.catch(() => {})
    await this.#log.close()
  }
}
