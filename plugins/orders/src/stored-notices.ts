// "Stored" events between instances sharing one database, over PostgreSQL LISTEN/NOTIFY: the
// instance that committed orders announces their uids (gathered over one turn of the event loop,
// split to fit NOTIFY's 8000-byte payload), and every other instance hears them and shows the
// orders on its own page. An instance skips its own notices (it showed them at its commit).
// On PGlite (one process per database) LISTEN/NOTIFY is in-process, so only the local path runs.

/** What the notices need of the db plugin. */
export interface NoticeDatabase {
  notify(channel: string, payload?: string): Promise<void>
  listen(channel: string, fn: (payload: string) => void, options?: { onReconnect?: () => void }): Promise<() => Promise<void>>
}

export interface StoredNoticesOptions {
  db: NoticeDatabase
  channel: string
  /** This instance's id: notices carrying it are its own. */
  instance: string
  /** Uids another instance stored. */
  onRemote: (uids: string[]) => void
  /** A notice could not be sent (the orders are stored; only the other pages miss them). */
  onError: (error: unknown) => void
  /** The listening connection came back after a loss: notices sent meanwhile are gone. */
  onReconnect?: () => void
}

/** NOTIFY payloads must stay under 8000 bytes; uids are ASCII (ORDER_UID), so length is bytes. */
const MAX_PAYLOAD = 7900

export class StoredNotices {
  readonly #options: StoredNoticesOptions
  #pending: string[] = []
  #scheduled = false
  #unlisten: (() => Promise<void>) | undefined

  constructor(options: StoredNoticesOptions) {
    this.#options = options
  }

  async start(): Promise<void> {
    const { db, channel, onReconnect } = this.#options
    this.#unlisten = await db.listen(channel, (payload) => this.#heard(payload), onReconnect ? { onReconnect } : {})
  }

  async stop(): Promise<void> {
    this.#flush()
    await this.#unlisten?.()
    this.#unlisten = undefined
  }

  /** An order this instance committed; sent with the others of this turn. */
  announce(uid: string): void {
    this.#pending.push(uid)
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => this.#flush())
  }

  #flush(): void {
    this.#scheduled = false
    const uids = this.#pending
    this.#pending = []
    for (const payload of payloads(this.#options.instance, uids)) this.#options.db.notify(this.#options.channel, payload).catch(this.#options.onError)
  }

  #heard(payload: string): void {
    const notice = parseNotice(payload)
    if (!notice || notice.instance === this.#options.instance || notice.uids.length === 0) return
    this.#options.onRemote(notice.uids)
  }
}

/** `{"i": instance, "u": [uids]}`, as many as it takes to stay under the payload limit. */
export function payloads(instance: string, uids: readonly string[]): string[] {
  const out: string[] = []
  const head = `{"i":${JSON.stringify(instance)},"u":[`
  let body = ''
  for (const uid of uids) {
    const item = JSON.stringify(uid)
    if (body && head.length + body.length + item.length + 3 > MAX_PAYLOAD) {
      out.push(`${head}${body}]}`)
      body = ''
    }
    body += body ? `,${item}` : item
  }
  if (body) out.push(`${head}${body}]}`)
  return out
}

/** A notice as sent by payloads(); anything else (another writer on the channel) is ignored. */
export function parseNotice(payload: string): { instance: string; uids: string[] } | undefined {
  try {
    const value = JSON.parse(payload) as { i?: unknown; u?: unknown }
    if (typeof value?.i !== 'string' || !Array.isArray(value.u)) return undefined
    return { instance: value.i, uids: value.u.filter((u): u is string => typeof u === 'string') }
  } catch {
    return undefined
  }
}
