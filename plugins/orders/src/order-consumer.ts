// Handling one delivered message: validate, store in one transaction, and only then let the
// port acknowledge it (the handler resolving). Invalid and conflicting orders go to the
// dead-letter queue with their reasons and are never retried; while the database is
// unreachable the message waits here, unacknowledged, and is stored once it answers.
import { prepareOrder, type OrderStore, type PreparedOrder, type SaveOutcome, type StoredOrder } from './order-store.ts'
import { describeProblems, type Problem } from './problems.ts'
import { parseOrder, type Strictness } from './validation.ts'

/** The part of a delivered message the consumer reads (the kernel's QueueMessage has it). */
export interface DeliveredOrder {
  readonly body: Buffer
  readonly headers: Readonly<Record<string, unknown>>
  readonly messageId?: string
  readonly redelivered: boolean
}

export type Publish = (queue: string, body: Buffer, options: { headers: Record<string, unknown>; messageId?: string }) => Promise<void>

export type ConsumeOutcome = SaveOutcome | 'invalid'

/** Header a producer may set to the publish time (ms since the epoch); the consume lag is measured from it. */
export const PUBLISHED_AT_HEADER = 'x-orders-published-at'
/** Header of a dead letter: `invalid` or `conflict`. */
export const REASON_HEADER = 'x-orders-reason'
/** Header of a dead letter: the problems as a JSON array of `{ path, message }`, one per failing field. */
export const PROBLEMS_HEADER = 'x-orders-problems'

export interface OrderConsumerOptions {
  queue: string
  /** Where orders are written: the store, or a WriteBatcher in front of it. */
  store: Pick<OrderStore, 'save'>
  strictness: Strictness
  publish: Publish
  /** True when the error means the database cannot be reached now (the db plugin's isUnavailable). */
  isUnavailable: (error: unknown) => boolean
  /** Aborted when the consumer stops: a message waiting for the database is then given back to the port. */
  signal: AbortSignal
  /** Called after each message with what became of it; `lagMs` when the message said when it was published. */
  onOutcome?: (outcome: ConsumeOutcome, detail: { order?: StoredOrder; lagMs?: number; uid?: string; problems?: Problem[] }) => void
  /** Told once when the database stops answering and once when it answers again. */
  onDatabase?: (status: { ok: boolean; reason?: string }) => void
  /** Longest wait between two attempts while the database is down (doubling from 100 ms). */
  maxOutageDelayMs?: number
}

export class OrderConsumer {
  readonly #options: OrderConsumerOptions
  readonly #dead: string
  #down = false

  constructor(options: OrderConsumerOptions) {
    this.#options = options
    this.#dead = `${options.queue}.dead`
  }

  get deadLetterQueue(): string {
    return this.#dead
  }

  /** The port's handler: resolving acknowledges, so it resolves only after the commit (or the dead letter's confirm). */
  readonly handle = async (message: DeliveredOrder): Promise<ConsumeOutcome> => {
    const validated = parseOrder(message.body, this.#options.strictness)
    if (!validated.ok) {
      await this.#deadLetter(message, 'invalid', validated.problems)
      this.#options.onOutcome?.('invalid', { problems: validated.problems, uid: uidOf(message.body) })
      return 'invalid'
    }
    const prepared = prepareOrder(validated.order)
    const { order } = prepared
    const outcome = await this.#saveWhenAvailable(prepared)
    if (outcome === 'conflict') {
      const problems = [{ path: 'order_uid', message: `order ${order.order_uid} is already stored with a different payload; the stored one is kept` }]
      await this.#deadLetter(message, 'conflict', problems)
    }
    const lagMs = publishedAt(message.headers)
    const stored = outcome === 'stored' ? { uid: order.order_uid, createdMs: prepared.createdMs, json: prepared.json } : undefined
    this.#options.onOutcome?.(outcome, { uid: order.order_uid, ...(stored ? { order: stored } : {}), ...(lagMs === undefined ? {} : { lagMs: Date.now() - lagMs }) })
    return outcome
  }

  async #saveWhenAvailable(order: PreparedOrder): Promise<SaveOutcome> {
    const { store, signal, isUnavailable } = this.#options
    let delay = 100
    for (;;) {
      try {
        const outcome = await store.save(order)
        this.#database(true)
        return outcome
      } catch (error) {
        // Any other error (a constraint, a serialization failure) is the port's to retry with its growing delay.
        if (!isUnavailable(error)) throw error
        this.#database(false, error)
        if (signal.aborted) throw new Error('the consumer is stopping while the database is unavailable; the message goes back to the queue', { cause: error })
        await pause(delay, signal)
        delay = Math.min(delay * 2, this.#options.maxOutageDelayMs ?? 5000)
      }
    }
  }

  #database(ok: boolean, error?: unknown): void {
    if (ok === !this.#down) return
    this.#down = !ok
    this.#options.onDatabase?.(ok ? { ok } : { ok, reason: (error as Error)?.message ?? String(error) })
  }

  async #deadLetter(message: DeliveredOrder, reason: 'invalid' | 'conflict', problems: Problem[]): Promise<void> {
    const headers = {
      ...message.headers,
      'x-armature-error': `${reason}: ${describeProblems(problems)}`.slice(0, 4000),
      'x-armature-queue': this.#options.queue,
      [REASON_HEADER]: reason,
      [PROBLEMS_HEADER]: JSON.stringify(problems.slice(0, 100)),
    }
    await this.#options.publish(this.#dead, message.body, { headers, ...(message.messageId ? { messageId: message.messageId } : {}) })
  }
}

function publishedAt(headers: Readonly<Record<string, unknown>>): number | undefined {
  const value = Number(headers[PUBLISHED_AT_HEADER])
  return Number.isFinite(value) && value > 0 ? value : undefined
}

/** The uid of an invalid message, when it has one, for the log. */
function uidOf(body: Buffer): string | undefined {
  try {
    const uid = (JSON.parse(body.toString('utf8')) as { order_uid?: unknown })?.order_uid
    return typeof uid === 'string' ? uid.slice(0, 64) : undefined
  } catch {
    return undefined
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
