// The queue port: what plugins code against to publish and consume work. AMQP implements
// it (servers/amqp.ts), and so can any other broker, so a plugin switches queue mechanism
// by configuration without changing its handlers.

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
  /** The broker delivered it before (after a lost connection or a requeue): the handler may have seen it. */
  readonly redelivered: boolean
  readonly attempt: number
}

/** The longest a retry waits, however many came before it. */
export const MAX_RETRY_DELAY_MS = 3_600_000

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
   * (at most an hour). The message waits in the broker, not in this process. 0 retries at once.
   * Default `AMQP_RETRY_DELAY_MS`, 1000.
   */
  retryDelayMs?: number
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

export interface QueuePort {
  /** Resolves once the broker has taken responsibility for the message (a publisher confirm). */
  publish(queue: string, body: Buffer | string | object, options?: PublishOptions): Promise<void>
  consume(queue: string, handler: MessageHandler, options?: ConsumeOptions): Promise<Consumer>
}

/** Thrown by `QueueMessage.json()`: the body is not the JSON the handler expected. */
export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError'
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

/** Encodes a publish body: Buffers as they are, strings as UTF-8, anything else as JSON. */
export function encodeBody(body: Buffer | string | object): { content: Buffer; contentType: string } {
  if (Buffer.isBuffer(body)) return { content: body, contentType: 'application/octet-stream' }
  if (typeof body === 'string') return { content: Buffer.from(body, 'utf8'), contentType: 'text/plain; charset=utf-8' }
  const json = JSON.stringify(body)
  // JSON.stringify returns undefined for undefined, functions and symbols: nothing to send.
  if (json === undefined) throw new TypeError(`cannot publish a ${typeof body} body; expected a Buffer, a string or a JSON value`)
  return { content: Buffer.from(json, 'utf8'), contentType: 'application/json' }
}

/** Reads the attempt header defensively: anything but a positive integer counts as a first attempt. */
export function attemptOf(headers: Record<string, unknown> | undefined): number {
  const value = Number(headers?.[ATTEMPT_HEADER])
  return Number.isSafeInteger(value) && value >= 1 ? value : 1
}
