// A consumer as the port keeps it: the queue, handler and options a plugin asked for, and
// the backend consumer serving them now. When the backend is replaced the port moves it:
// the consumer attaches to the new backend first and only then is the old one cancelled,
// so deliveries never pause and what the old one had not acknowledged is redelivered.
import type { Logger } from 'pino'
import { errorMessage } from '../errors.ts'
import type { ConsumeOptions, Consumer, MessageHandler, QueueBackend } from '../queue.ts'

/** The plugin generation a consumer or a backend belongs to. */
export interface QueueOwner {
  readonly name: string
  readonly id: number
  readonly definition: { readonly provides?: readonly string[] | undefined }
}

export interface KeptConsumerHost {
  readonly log: Logger
  /** The backend serving the port now: a retried attach gives up once another one took over. */
  active(): QueueBackend | undefined
  forget(consumer: KeptConsumer): void
}

/** The wait before attaching again to a backend that refused: doubling from 1 s, at most 30 s. */
const REATTACH_MIN_MS = 1000
const REATTACH_MAX_MS = 30_000

export class KeptConsumer implements Consumer {
  readonly queue: string
  readonly owner: QueueOwner
  readonly #host: KeptConsumerHost
  readonly #handler: MessageHandler
  readonly #options: ConsumeOptions
  #attached: { backend: QueueBackend; consumer: Consumer } | undefined
  /** Backend consumers being cancelled after a move: their handlers still run. */
  readonly #leaving = new Map<Consumer, Promise<void>>()
  /** Attaches run one after another, so a move never overtakes the first attach. */
  #chain: Promise<void> = Promise.resolve()
  #stopping = false
  #cancelled: Promise<void> | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #retries = 0

  constructor(host: KeptConsumerHost, owner: QueueOwner, queue: string, handler: MessageHandler, options: ConsumeOptions) {
    this.#host = host
    this.owner = owner
    this.queue = queue
    this.#handler = handler
    this.#options = options
  }

  get inFlight(): number {
    let running = this.#attached?.consumer.inFlight ?? 0
    for (const consumer of this.#leaving.keys()) running += consumer.inFlight
    return running
  }

  /** The first attach; a refusal (a bad option, a queue the broker will not serve) goes to the caller. */
  attach(backend: QueueBackend): Promise<void> {
    return this.#serial(async () => {
      if (this.#stopping) return
      this.#attached = { backend, consumer: await backend.consume(this.queue, this.#handler, this.#options) }
    })
  }

  /** Moves to `backend` (undefined: to none) and resolves once the old backend's consumer has stopped. */
  async moveTo(backend: QueueBackend | undefined): Promise<void> {
    clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    let previous: Consumer | undefined
    await this.#serial(async () => {
      if (this.#stopping || this.#attached?.backend === backend) return
      previous = this.#attached?.consumer
      this.#attached = undefined
      if (backend) await this.#attachOrRetry(backend)
    })
    if (previous) await this.#release(previous)
  }

  cancel(): Promise<void> {
    this.#cancelled ??= (async () => {
      this.#stopping = true
      clearTimeout(this.#retryTimer)
      await this.#serial(async () => {
        const attached = this.#attached
        this.#attached = undefined
        if (attached) await this.#release(attached.consumer)
      })
      await Promise.all(this.#leaving.values())
      this.#host.forget(this)
    })()
    return this.#cancelled
  }

  async #attachOrRetry(backend: QueueBackend): Promise<void> {
    try {
      this.#attached = { backend, consumer: await backend.consume(this.queue, this.#handler, this.#options) }
      this.#retries = 0
    } catch (error) {
      const delayMs = Math.min(REATTACH_MAX_MS, REATTACH_MIN_MS * 2 ** Math.min(this.#retries++, 10))
      this.#host.log.error(
        `queue consumer of '${this.queue}' (plugin ${this.owner.name}) cannot attach to backend '${backend.name}': ${errorMessage(error)}; retrying in ${delayMs} ms`,
      )
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined
        if (this.#host.active() === backend) void this.moveTo(backend)
      }, delayMs)
    }
  }

  /** Cancels a backend consumer: its running handlers finish and acknowledge, the rest is redelivered. */
  #release(consumer: Consumer): Promise<void> {
    let releasing = this.#leaving.get(consumer)
    if (!releasing) {
      releasing = consumer
        .cancel()
        .catch((error) => this.#host.log.warn(`queue consumer of '${this.queue}' (plugin ${this.owner.name}) did not cancel cleanly: ${errorMessage(error)}`))
        .finally(() => this.#leaving.delete(consumer))
      this.#leaving.set(consumer, releasing)
    }
    return releasing
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step)
    this.#chain = run.catch(() => {})
    return run
  }
}
