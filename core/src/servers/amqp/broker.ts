// The RabbitMQ queue backend (amqplib): one connection that reconnects with backoff, a
// confirm channel for publishing, one channel per consumer, broker-side delayed retries and
// a dead-letter queue. Delivery is at-least-once: a lost connection redelivers what was
// not yet acknowledged, so a handler can see a message twice, never zero times.
import type { Logger } from 'pino'
import { errorMessage } from '../../errors.ts'
import type { ConsumeOptions, Consumer, MessageHandler, PublishOptions, QueueBackend, QueueBackendDescription } from '../../queue.ts'
import { checkPrefetch, checkRetries, checkRetryDelay, type ConsumeDefaults } from '../../queue/consume-options.ts'
import { encodeBody } from '../../queue/message.ts'
import { AmqpConnection } from './connection.ts'
import type { Session } from './session.ts'
import { AmqpConsumer, type ConsumerHost } from './consumer.ts'
import { AmqpPublisher, publishProperties } from './publisher.ts'
import { AmqpError, checkAmqpQueueName, resolveAmqpConsumeOptions } from './validation.ts'

export interface AmqpBrokerOptions {
  /** `amqp://user:pass@host:port/vhost` or `amqps://...` (the `AMQP_URL` variable). */
  url: string
  log: Logger
  /** Default prefetch of consumers (messages unacknowledged at once per consumer). Default 10. */
  prefetch?: number
  /** Default bounded retries of a failing handler. Default 3. */
  maxRetries?: number
  /** Default wait before the first retry (doubling for each next one); 0 retries at once. Default 1000 ms. */
  retryDelayMs?: number
  /** How long a publish may wait for a connection and its confirm. Default 10 000 ms. */
  publishTimeoutMs?: number
  /** Bounds of the reconnect backoff (exponential, with jitter). Default 100 ms to 30 s. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
  /** Heartbeat asked of the broker unless the URL sets one, so a silent network loss is noticed. Default 10 s. */
  heartbeatSeconds?: number
  /** Shown in the broker's management UI. Default 'armature'. */
  connectionName?: string
}

export class AmqpBroker implements QueueBackend {
  readonly name = 'amqp'
  readonly #log: Logger
  readonly #defaults: ConsumeDefaults
  readonly #connection: AmqpConnection
  readonly #publisher: AmqpPublisher
  readonly #consumers = new Set<AmqpConsumer>()
  readonly #host: ConsumerHost
  #closing: Promise<void> | undefined

  constructor(options: AmqpBrokerOptions) {
    this.#log = options.log
    this.#defaults = {
      prefetch: checkPrefetch(options.prefetch ?? 10),
      maxRetries: checkRetries(options.maxRetries ?? 3),
      retryDelayMs: checkRetryDelay(options.retryDelayMs ?? 1000),
    }
    this.#connection = new AmqpConnection({
      url: options.url,
      log: options.log,
      heartbeatSeconds: options.heartbeatSeconds ?? 10,
      connectionName: options.connectionName ?? 'armature',
      reconnect: { minDelayMs: options.reconnect?.minDelayMs ?? 100, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000 },
      onConnected: (session) => this.#reattach(session),
    })
    this.#publisher = new AmqpPublisher(this.#connection, options.publishTimeoutMs ?? 10_000)
    this.#host = {
      log: this.#log,
      live: () => this.#connection.live(),
      declare: (session, queue) => this.#connection.declare(session, queue),
      send: (queue, content, properties, declare) => this.#publisher.send(queue, content, properties, declare),
      backoff: (attempt) => this.#connection.backoff(attempt),
      forget: (consumer) => this.#consumers.delete(consumer),
    }
  }

  get connected(): boolean {
    return this.#connection.live() !== undefined
  }

  /** Connects. An unreachable broker is not fatal: it resolves anyway and keeps retrying in the background. */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new AmqpError('the AMQP client is closed; create a new AmqpBroker'))
    return this.#connection.start()
  }

  async publish(queue: string, body: Buffer | string | object, options: PublishOptions = {}): Promise<void> {
    checkAmqpQueueName(queue, 'queue', { replyQueue: true })
    let encoded: ReturnType<typeof encodeBody>
    try {
      encoded = encodeBody(body)
    } catch (error) {
      throw new AmqpError(`cannot publish to '${queue}': ${errorMessage(error)}`, { cause: error })
    }
    return this.#publisher.send(queue, encoded.content, publishProperties(encoded.contentType, options))
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    const resolved = resolveAmqpConsumeOptions(queue, handler, options, this.#defaults)
    if (this.#closing) throw new AmqpError(`consume('${queue}'): the AMQP client is closed`)
    const consumer = new AmqpConsumer(this.#host, queue, handler, resolved)
    this.#consumers.add(consumer)
    const session = this.#connection.live()
    if (session) {
      try {
        await consumer.attach(session)
      } catch (error) {
        // A lost connection is not the caller's problem: the consumer attaches on reconnect.
        // A refusal on a live connection (an incompatible queue, no permission) is.
        if (!session.closed) {
          await consumer.cancel()
          throw new AmqpError(`cannot consume from '${queue}': ${errorMessage(error)}`, { cause: error })
        }
      }
    }
    return consumer
  }

  /** Waits for pending publisher confirms, then closes channels and the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#connection.close(async () => {
      await this.#publisher.drain()
      // Consumers not cancelled before close lose their channels with the connection; the broker
      // requeues whatever they had not acknowledged.
      for (const consumer of this.#consumers) consumer.abandon()
      this.#consumers.clear()
    })
    return this.#closing
  }

  describe(): QueueBackendDescription {
    return { name: this.name, connected: this.connected, consumers: this.#consumers.size, url: this.#connection.safeUrl, pendingPublishes: this.#publisher.pending }
  }

  /** On every new connection, after its queues are declared again: each live consumer subscribes again. */
  async #reattach(session: Session): Promise<void> {
    await Promise.all(
      [...this.#consumers].map((consumer) =>
        consumer.attach(session).catch((error) => {
          if (!session.closed) this.#log.error(`amqp cannot re-attach the consumer of '${consumer.queue}': ${errorMessage(error)}`)
        }),
      ),
    )
  }
}
