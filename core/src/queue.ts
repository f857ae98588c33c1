// The queue port: what plugins code against to publish and consume work (`ctx.queue`), and
// the interface a queue backend implements. RabbitMQ implements it (servers/amqp/), and a
// plugin may provide another backend, so a plugin's handlers never depend on the broker.
import { ArmatureError } from './errors.ts'

/** A delivered message. `attempt` is 1 on first delivery and grows with each bounded retry. */
export interface QueueMessage {
  readonly queue: string
  readonly body: Buffer
  /** Parses the body as JSON; throws `MalformedMessageError`, which dead-letters at once (retrying cannot fix it). */
  json<T = unknown>(): T
  text(): string
  readonly headers: Readonly<Record<string, unknown>>
  readonly contentType?: string
  readonly correlationId?: string
  readonly replyTo?: string
  readonly messageId?: string
  /** The backend delivered it before (after a lost connection or a requeue): the handler may have seen it. */
  readonly redelivered: boolean
  readonly attempt: number
}

/** The longest a retry waits, however many came before it. */
export const MAX_RETRY_DELAY_MS = 3_600_000
/** The most messages one consumer may hold unacknowledged (AMQP's own limit, kept for every backend). */
export const MAX_PREFETCH = 65_535

/** Resolving acknowledges the message; throwing (or rejecting) retries it, up to `maxRetries`. */
export type MessageHandler = (message: QueueMessage) => unknown

export interface ConsumeOptions {
  /** Messages delivered and not yet acknowledged; handlers run concurrently up to this many. Default 10. */
  prefetch?: number
  /** Retries after the first failed attempt, so a message is handled at most `maxRetries + 1` times. Default 3. */
  maxRetries?: number
  /** Queue that receives messages that failed every attempt; `false` rejects them instead. Default `<queue>.dead`. */
  deadLetter?: string | false
  /**
   * How long the first retry waits; each further retry waits twice as long as the one before
   * (at most an hour). The message waits in the backend, not in the handler. 0 retries at once.
   * Default: the backend's (`AMQP_RETRY_DELAY_MS`, 1000, on RabbitMQ).
   */
  retryDelayMs?: number
}

/** Consume options with every default applied and checked. */
export interface ResolvedConsumeOptions {
  prefetch: number
  maxRetries: number
  retryDelayMs: number
  deadLetter: string | false
}

export interface PublishOptions {
  headers?: Record<string, unknown>
  correlationId?: string
  replyTo?: string
  /** Defaults to a random UUID, so consumers can recognise a redelivered duplicate. */
  messageId?: string
  /** Survives a broker restart (written to disk). Default true. */
  persistent?: boolean
}

export interface Consumer {
  readonly queue: string
  /** Handlers running now. */
  readonly inFlight: number
  /** Stops deliveries, lets running handlers finish and acknowledge, and returns the rest to the queue. Idempotent. */
  cancel(): Promise<void>
}

/** What a backend reports about itself, at `GET /_armature/plugins` under `queue.details`. */
export interface QueueBackendDescription {
  readonly name: string
  /** False while the backend cannot take messages (a lost connection being re-established). */
  readonly connected: boolean
  /** Consumers attached to this backend now. */
  readonly consumers: number
  readonly [detail: string]: unknown
}

/**
 * A queue backend: RabbitMQ (with `AMQP_URL`) or one a plugin provides. The port hands it
 * checked options; what it promises is what `ctx.queue` promises (docs/queues.md, "Guarantees").
 */
export interface QueueBackend {
  /** `[a-z0-9-]+`; shown as `ctx.queue.backend` and in the ids of the stop entries (`<name>:consumers`). */
  readonly name: string
  /** Resolves once the backend has taken responsibility for the message (a publisher confirm). */
  publish(queue: string, body: Buffer | string | object, options?: PublishOptions): Promise<void>
  /** Resolve acks; throw retries after a doubling delay, up to `maxRetries`, then dead-letters. */
  consume(queue: string, handler: MessageHandler, options?: ConsumeOptions): Promise<Consumer>
  /** After the consumers were cancelled: waits for pending confirms, then releases everything. Idempotent. */
  close(): Promise<void>
  describe(): QueueBackendDescription
}

/** `ctx.queue`: the one queue a plugin sees, whichever backend serves it. */
export interface PluginQueue {
  /** A backend is selected: `AMQP_URL` is set, or a loaded plugin provides one. */
  readonly enabled: boolean
  /** The selected backend's name (`'amqp'`, `'pubsub'`), or undefined when there is none. */
  readonly backend: string | undefined
  /** Resolves once the backend has taken responsibility for the message (a publisher confirm). */
  publish(queue: string, body: Buffer | string | object, options?: PublishOptions): Promise<void>
  /** The consumer belongs to this generation: it is cancelled when the generation stops, and moves when the backend is replaced. */
  consume(queue: string, handler: MessageHandler, options?: ConsumeOptions): Promise<Consumer>
  /**
   * Offers a backend, during setup, from a plugin that declares `provides: ['queue']`. It serves
   * `ctx.queue` unless `AMQP_URL` selects RabbitMQ. The port closes it when it is replaced, when
   * this generation stops, or at shutdown (Egress).
   */
  provideBackend(backend: QueueBackend): void
}

/** @deprecated `ctx.amqp` is `ctx.queue` under its former name, kept for one version. */
export type PluginAmqp = PluginQueue

/** Any refusal of the queue port: a bad option, no backend, a closed backend. The message names the key and the value. */
export class QueueError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Thrown by `QueueMessage.json()`: the body is not the JSON the handler expected. */
export class MalformedMessageError extends ArmatureError {
  constructor(
    readonly queue: string,
    message: string,
  ) {
    super(`queue '${queue}': ${message}`)
  }
}

/** Header carrying the attempt number across bounded retries. */
export const ATTEMPT_HEADER = 'x-armature-attempt'
/** Header naming the last error of a dead-lettered message. */
export const ERROR_HEADER = 'x-armature-error'
/** Header naming the queue a dead-lettered message came from. */
export const ORIGIN_HEADER = 'x-armature-queue'
