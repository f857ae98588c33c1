// LISTEN on PostgreSQL: one dedicated connection outside the pool (a pooled connection would be
// handed to other work, and its LISTENs with it), opened on the first listen; a listen fails only
// when that connection cannot be opened. Once it has been up, a lost connection is reopened with
// a growing delay, LISTENs on every channel again (those added meanwhile too) and tells the
// listeners, since notifications sent in between are gone.
import pg from 'pg'
import type { Unlisten } from './database.ts'
import { DatabaseUnavailableError } from './errors.ts'
import { quoteIdentifier } from './identifiers.ts'

/** First wait before a reconnect attempt, doubled per failure up to the maximum. */
export const RECONNECT_MIN_MS = 100
export const RECONNECT_MAX_MS = 5000

interface Listener {
  fn: (payload: string) => void
  onReconnect: (() => void) | undefined
}

export interface PgListenerOptions {
  url: string
  connectTimeoutMs: number
}

export class PgListener {
  readonly #options: PgListenerOptions
  readonly #channels = new Map<string, Set<Listener>>()
  /** Channels LISTENed on the current connection. */
  readonly #listened = new Set<string>()
  #client: pg.Client | undefined
  /** LISTEN, UNLISTEN and reconnects run one at a time, in order. */
  #tail: Promise<unknown> = Promise.resolve()
  #reconnecting = false
  #timer: NodeJS.Timeout | undefined
  #delay = RECONNECT_MIN_MS
  #closed = false

  constructor(options: PgListenerOptions) {
    this.#options = options
  }

  async listen(channel: string, fn: (payload: string) => void, onReconnect?: () => void): Promise<Unlisten> {
    if (this.#closed) throw new DatabaseUnavailableError(`listen(${channel}): the database is closed`)
    const listener: Listener = { fn, onReconnect }
    let set = this.#channels.get(channel)
    if (!set) this.#channels.set(channel, (set = new Set()))
    set.add(listener)
    const listeners = set
    try {
      await this.#serial(async () => {
        // While reconnecting, the reconnect LISTENs on every channel, this one included.
        if (this.#reconnecting || this.#listened.has(channel) || !listeners.has(listener)) return
        const client = this.#client ?? (await this.#connect())
        try {
          await client.query(`LISTEN ${quoteIdentifier(channel, 'channel')}`)
          this.#listened.add(channel)
        } catch {
          // The channel is a checked identifier, so this is the connection going (its 'end' may
          // not have arrived yet): the reconnect LISTENs on this channel with the others.
          this.#lost(client)
        }
      })
    } catch (error) {
      this.#remove(channel, listeners, listener)
      throw new DatabaseUnavailableError(`listen(${channel}): ${(error as Error).message}`, { cause: error })
    }
    return async () => {
      if (!this.#remove(channel, listeners, listener)) return
      await this.#serial(async () => {
        const client = this.#client
        if (this.#channels.has(channel) || !client || !this.#listened.has(channel)) return
        this.#listened.delete(channel)
        // A failure here means the connection is going; its LISTENs go with it.
        await client.query(`UNLISTEN ${quoteIdentifier(channel, 'channel')}`).catch(() => {})
      })
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    this.#listened.clear()
    await client?.end().catch(() => {})
  }

  /** Removes one listener; true when it was still there. */
  #remove(channel: string, listeners: Set<Listener>, listener: Listener): boolean {
    if (!listeners.delete(listener)) return false
    if (listeners.size === 0 && this.#channels.get(channel) === listeners) this.#channels.delete(channel)
    return true
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op, op)
    this.#tail = run.catch(() => {})
    return run
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.#options.url, connectionTimeoutMillis: this.#options.connectTimeoutMs, keepAlive: true })
    // Without an error listener a lost connection would crash the process.
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    client.on('notification', (message) => {
      for (const listener of this.#channels.get(message.channel) ?? []) listener.fn(message.payload ?? '')
    })
    await client.connect()
    if (this.#closed) {
      await client.end().catch(() => {})
      throw new Error('the database is closed')
    }
    this.#client = client
    return client
  }

  #lost(client: pg.Client): void {
    if (client !== this.#client) return
    this.#client = undefined
    this.#listened.clear()
    client.end().catch(() => {})
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer) return
    this.#reconnecting = true
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#serial(() => this.#reconnect())
    }, this.#delay)
    this.#timer.unref()
    this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS)
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return
    try {
      const client = await this.#connect()
      for (const channel of this.#channels.keys()) {
        await client.query(`LISTEN ${quoteIdentifier(channel, 'channel')}`)
        this.#listened.add(channel)
      }
    } catch {
      const client = this.#client
      this.#client = undefined
      this.#listened.clear()
      await client?.end().catch(() => {})
      this.#scheduleReconnect()
      return
    }
    this.#reconnecting = false
    this.#delay = RECONNECT_MIN_MS
    for (const listeners of this.#channels.values()) for (const listener of listeners) listener.onReconnect?.()
  }
}
