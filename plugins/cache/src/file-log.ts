// One append-only segment of the mutation log.
//
// Appends queue up while a write is in flight and go out together (group commit), so
// `always` costs one fdatasync per batch, not per mutation. After a failed write the
// file's tail is unknown, so the log stops accepting appends rather than risk writing
// good records after a half-written one.
//
// `everysec` and `no` write each batch with one synchronous write(2) at the end of the
// event-loop turn in which its mutations arrived (as Redis writes its AOF from the main
// thread). A write to the page cache takes microseconds; a round trip through libuv's
// thread pool per batch cost more than the write itself and added a turn of latency.
// `always` needs fdatasync, which can take milliseconds, so it stays on the pool.
import { writeSync } from 'node:fs'
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { encodeMutation, decodeMutation, unframe } from './codec.ts'
import { CacheError } from './errors.ts'
import type { FsyncPolicy } from './fsync-policy.ts'
import type { Journal, Mutation } from './mutation.ts'

/** A write to the log failed after its mutation was applied in memory. */
export class LogWriteError extends CacheError {
  override name = 'LogWriteError'
}

/** The log takes no more writes (an earlier write failed, or it is closed); nothing was changed. */
export class LogUnavailableError extends CacheError {
  override name = 'LogUnavailableError'
}

interface Pending {
  readonly bytes: Buffer
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

export class FileLog implements Journal {
  readonly path: string
  readonly policy: FsyncPolicy
  #handle: Promise<FileHandle>
  #pending: Pending[] = []
  #draining: Promise<void> | undefined
  #failed: Error | undefined
  #unsynced = false
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #bytes = 0

  /** Opens (creating if needed) for append; opening runs in the background, appends wait for it. */
  constructor(path: string, policy: FsyncPolicy) {
    this.path = path
    this.policy = policy
    this.#handle = openForAppend(path, policy)
    this.#handle.catch((err: Error) => (this.#failed = new LogWriteError(`cannot open ${path}: ${err.message}`)))
    if (policy === 'everysec') {
      this.#timer = setInterval(() => void this.#syncIfDirty().catch(() => {}), 1000)
      this.#timer.unref()
    }
  }

  /** Bytes appended through this object. */
  get bytesWritten(): number {
    return this.#bytes
  }

  /** Throws (before anything is queued) when the mutation cannot be logged; see Journal. */
  append(mutation: Mutation): Promise<void> {
    if (this.#failed)
      throw new LogUnavailableError(
        `the mutation log takes no more writes after a failure (${this.#failed.message}); nothing was changed; a restart restores the last durable state`,
      )
    if (this.#closed) throw new LogUnavailableError(`${this.path} is closed; nothing was changed`)
    const bytes = encodeMutation(mutation)
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ bytes, resolve, reject })
      this.#draining ??= this.#drain()
    })
  }

  /** Writes what is queued and syncs it to disk, whatever the policy. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining
    if (this.#failed) throw this.#failed
    await this.#syncIfDirty()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    try {
      await this.flush()
    } finally {
      const handle = await this.#handle.catch(() => undefined)
      await handle?.close()
    }
  }

  // Clears #draining in the same synchronous step that finds the queue empty, so an
  // append made right after (by a caller resumed from this batch) starts a new drain.
  async #drain(): Promise<void> {
    const handle = await this.#handle.catch(() => undefined)
    const sync = this.policy !== 'always'
    // Let the rest of this event-loop turn queue its mutations: one write for all of them.
    if (sync) await new Promise<void>((resolve) => setImmediate(resolve))
    for (;;) {
      if (this.#pending.length === 0) {
        this.#draining = undefined
        return
      }
      const batch = this.#pending
      this.#pending = []
      try {
        if (!handle || this.#failed) throw this.#failed ?? new LogWriteError(`cannot open ${this.path}`)
        const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((p) => p.bytes))
        let written = 0
        while (written < bytes.length) {
          written += sync ? writeSync(handle.fd, bytes, written, bytes.length - written) : (await handle.write(bytes, written, bytes.length - written)).bytesWritten
        }
        this.#bytes += bytes.length
        if (this.policy === 'always') await handle.datasync()
        else this.#unsynced = true
        for (const p of batch) p.resolve()
      } catch (err) {
        this.#failed ??= new LogWriteError(`writing ${this.path} failed: ${(err as Error).message}`)
        for (const p of batch) p.reject(this.#failed)
      }
    }
  }

  async #syncIfDirty(): Promise<void> {
    if (!this.#unsynced) return
    this.#unsynced = false
    const handle = await this.#handle
    await handle.datasync()
  }
}

async function openForAppend(path: string, policy: FsyncPolicy): Promise<FileHandle> {
  const handle = await open(path, 'a')
  // A new file is only durable once its directory entry is; `always` promises that.
  if (policy === 'always') await syncDirectory(dirname(path))
  return handle
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export interface LogContents {
  readonly mutations: Mutation[]
  readonly goodBytes: number
  readonly torn?: { readonly offset: number; readonly bytes: number; readonly reason: string }
}

/** Reads a whole segment; a torn tail is reported (the caller decides to truncate), never thrown. */
export async function readLog(path: string): Promise<LogContents> {
  const buf = await readFile(path)
  const { records, goodBytes, torn } = unframe(buf, path)
  return { mutations: records.map((r) => decodeMutation(r, path)), goodBytes, ...(torn ? { torn } : {}) }
}
