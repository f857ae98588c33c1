// Where the registered servers are kept: the store interface, and its file implementation
// (one JSON file, replaced whole by writing a temporary file and renaming it over the old one,
// so a crash leaves either the old list or the new one). The PostgreSQL one is in pg-store.ts.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { ServerFileError } from './errors.ts'
import type { ServerSpec } from './validation.ts'

export interface StoredServer {
  spec: ServerSpec
  /** ISO time of registration; the list is kept in creation order. */
  created: string
}

/** A stored record, unchecked (the registry validates each against today's options). */
export interface LoadedServer {
  record: Record<string, unknown>
  created: string
}

/** Keeps the list of registered servers, in creation order. */
export interface ServerStore {
  /** Where the list is kept, for log lines. */
  readonly where: string
  /** The stored records, in creation order. */
  load(): Promise<LoadedServer[]>
  /** Replaces the stored list; resolves once it is durable. */
  save(servers: StoredServer[]): Promise<void>
}

const FORMAT_VERSION = 1

export class ServerFile implements ServerStore {
  readonly path: string
  #queue: Promise<void> = Promise.resolve()
  #latest: string | undefined

  constructor(path: string) {
    this.path = path
  }

  get where(): string {
    return this.path
  }

  /**
   * The stored records, unchecked (the registry validates each against today's options).
   * A file that is not a server list is moved aside, never overwritten, and reported.
   */
  async load(): Promise<LoadedServer[]> {
    if (!existsSync(this.path)) return []
    const text = readFileSync(this.path, 'utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw this.#setAside(`not JSON (${(error as Error).message})`)
    }
    const servers = (parsed as { servers?: unknown })?.servers
    if (!Array.isArray(servers) || servers.some((s) => !s || typeof s !== 'object')) throw this.#setAside('expected { "version": 1, "servers": [ ... ] }')
    return servers.map((s: Record<string, unknown>) => {
      const { created, ...record } = s
      return { record, created: typeof created === 'string' ? created : new Date(0).toISOString() }
    })
  }

  /** Writes the list; concurrent saves are serialised and only the newest list is written. */
  save(servers: StoredServer[]): Promise<void> {
    this.#latest = JSON.stringify({ version: FORMAT_VERSION, servers: servers.map((s) => ({ ...s.spec, created: s.created })) }, null, 2) + '\n'
    const write = this.#queue.catch(() => undefined).then(() => this.#write())
    this.#queue = write
    return write
  }

  #write(): void {
    const text = this.#latest
    if (text === undefined) return
    this.#latest = undefined
    mkdirSync(dirname(this.path), { recursive: true })
    const temporary = `${this.path}.${process.pid}.tmp`
    // Readable by its owner only: a server registered with its own certificate keeps the key here.
    const fd = openSync(temporary, 'w', 0o600)
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, this.path)
  }

  #setAside(reason: string): ServerFileError {
    const aside = `${this.path}.unreadable-${Date.now()}`
    renameSync(this.path, aside)
    return new ServerFileError(this.path, `${reason}; it was moved to ${aside} and the proxy starts with no servers`)
  }
}
