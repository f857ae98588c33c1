// Following a database's availability through the queries its user makes: one change when it
// stops answering, one when it answers again, and a probe in between, so that recovery is seen
// even when nothing is sent to a service whose readiness check is failing.
import { DatabaseOutageError, unavailableReason } from './unavailable.ts'

export interface AvailabilityStatus {
  ok: boolean
  /** Why it is unavailable (a few words, no address or credentials); set when not ok. */
  reason?: string
}

export interface AvailabilityOptions {
  /** Told once when the database stops answering and once when it answers again. */
  onChange(status: AvailabilityStatus): void
  /** While unavailable, `SELECT 1` is sent this often; also the Retry-After of the 503 (default 5000 ms). */
  probeIntervalMs?: number
}

/** The part of the db plugin's API that is watched. */
interface Watchable {
  readonly kind?: string
  query(sql: string, params?: unknown[]): Promise<unknown>
  transaction?(fn: never): Promise<unknown>
}

export const DEFAULT_PROBE_INTERVAL_MS = 5000

const NAMES: Record<string, string> = { postgres: 'PostgreSQL', pglite: 'PGlite' }

export class AvailabilityWatch {
  readonly #database: string
  readonly #probe: () => Promise<unknown>
  readonly #onChange: AvailabilityOptions['onChange']
  readonly #probeIntervalMs: number
  #reason: string | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  /** `database` names it in errors (`PostgreSQL`); `probe` is a cheap statement that succeeds when it answers. */
  constructor(database: string, probe: () => Promise<unknown>, options: AvailabilityOptions) {
    this.#database = database
    this.#probe = probe
    this.#onChange = options.onChange
    this.#probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS
  }

  get available(): boolean {
    return this.#reason === undefined
  }

  /**
   * Runs one database call; its outcome says whether the database answers. An outage is
   * thrown as a DatabaseOutageError (a 503), every other error as it came.
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call()
      this.#answered()
      return result
    } catch (error) {
      const reason = unavailableReason(error)
      // Any other error (a constraint, a syntax error) came from a server that answered.
      if (reason === undefined) {
        this.#answered()
        throw error
      }
      this.#unanswered(reason)
      if (error instanceof DatabaseOutageError) throw error
      throw new DatabaseOutageError(this.#database, reason, Math.ceil(this.#probeIntervalMs / 1000), { cause: error })
    }
  }

  /** Ends the probing (the user is stopping). */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #answered(): void {
    if (this.#reason === undefined) return
    this.#reason = undefined
    clearTimeout(this.#timer)
    this.#onChange({ ok: true })
  }

  #unanswered(reason: string): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#onChange({ ok: false, reason: `${this.#database}: ${reason}` })
    this.#scheduleProbe()
  }

  #scheduleProbe(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#probe().then(
        () => this.#answered(),
        (error: unknown) => {
          if (unavailableReason(error) === undefined) return this.#answered()
          if (this.#reason !== undefined) this.#scheduleProbe()
        },
      )
    }, this.#probeIntervalMs)
    this.#timer.unref()
  }
}

/**
 * The db plugin's `query` and `transaction`, each going through one watch; `watch.stop()`
 * ends its probing. Other members (`migrate`, `kind`) are used from `db` itself.
 */
export function watchAvailability<D extends Watchable>(db: D, options: AvailabilityOptions): { database: Pick<D, 'query' | 'transaction'>; watch: AvailabilityWatch } {
  const watch = new AvailabilityWatch(NAMES[db.kind ?? ''] ?? 'database', () => db.query('SELECT 1'), options)
  const query = ((sql: string, params?: unknown[]) => watch.run(() => db.query(sql, params))) as D['query']
  const transaction = db.transaction && (((fn: never) => watch.run(() => db.transaction!(fn))) as D['transaction'])
  return { database: { query, transaction } as Pick<D, 'query' | 'transaction'>, watch }
}
