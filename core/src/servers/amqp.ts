// The AMQP implementation of the queue port (amqplib): one connection that reconnects with
// backoff, a confirm channel for publishing, one channel per consumer, bounded retries and
// a dead-letter queue. Delivery is at-least-once: a lost connection redelivers what was
// not yet acknowledged, so a handler can see a message twice, never zero times.
import { randomUUID } from 'node:crypto'
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib'
import type { Logger } from 'pino'
import { errorMessage } from '../errors.ts'
import {
  ATTEMPT_HEADER,
  ERROR_HEADER,
  MAX_RETRY_DELAY_MS,
  MalformedMessageError,
  ORIGIN_HEADER,
  attemptOf,
  encodeBody,
  type ConsumeOptions,
  type Consumer,
  type MessageHandler,
  type PublishOptions,
  type QueueMessage,
  type QueuePort,
} from '../queue.ts'

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

/** Anything the AMQP client refuses or the broker reports; the message names the queue or the URL. */
export class AmqpError extends Error {
  override name = 'AmqpError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** One live AMQP connection and the channels opened on it; replaced wholesale on reconnect. */
interface Session {
  readonly connection: ChannelModel
  closed: boolean
  publisher?: Promise<ConfirmChannel>
  topology?: Promise<Channel>
  /** Queues asserted on this connection (a pending or settled declaration). */
  readonly declared: Map<string, Promise<void>>
}

/** What a consumer needs from its broker, without reaching into the broker's private state. */
interface ConsumerHost {
  readonly log: Logger
  session(): Session | undefined
  declare(session: Session, queue: string): Promise<void>
  /** Publishes with a confirm; `declare` says how to declare the queue when it is new (default durable). */
  send(queue: string, content: Buffer, properties: Options.Publish, declare?: Options.AssertQueue): Promise<void>
  backoff(attempt: number): number
  forget(consumer: AmqpConsumer): void
}

const MAX_PREFETCH = 65_535
/** How a queue is declared unless told otherwise: durable, so messages outlive a broker restart. */
const DURABLE: Options.AssertQueue = { durable: true }

export class AmqpBroker implements QueuePort {
  readonly #url: string
  readonly #safeUrl: string
  readonly #log: Logger
  readonly #prefetch: number
  readonly #maxRetries: number
  readonly #retryDelayMs: number
  readonly #publishTimeoutMs: number
  readonly #minDelayMs: number
  readonly #maxDelayMs: number
  readonly #connectionName: string

  #started = false
  #everConnected = false
  #session: Session | undefined
  #reconnecting: Promise<void> | undefined
  #firstAttempt: Promise<void> | undefined
  #settleFirstAttempt: () => void = () => {}
  #wakeSleep: (() => void) | undefined
  #closing: Promise<void> | undefined
  /** Every queue this client declared, and how, asserted again on each new connection. */
  readonly #queues = new Map<string, Options.AssertQueue>()
  readonly #consumers = new Set<AmqpConsumer>()
  readonly #waiters = new Set<() => void>()
  readonly #pendingPublishes = new Set<Promise<void>>()
  readonly #host: ConsumerHost

  constructor(options: AmqpBrokerOptions) {
    this.#url = withDefaultHeartbeat(options.url, options.heartbeatSeconds ?? 10)
    this.#safeUrl = redact(options.url)
    this.#log = options.log
    this.#prefetch = checkPrefetch(options.prefetch ?? 10, 'prefetch')
    this.#maxRetries = checkRetries(options.maxRetries ?? 3)
    this.#retryDelayMs = checkRetryDelay(options.retryDelayMs ?? 1000)
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 10_000
    this.#minDelayMs = Math.max(1, options.reconnect?.minDelayMs ?? 100)
    this.#maxDelayMs = Math.max(this.#minDelayMs, options.reconnect?.maxDelayMs ?? 30_000)
    this.#connectionName = options.connectionName ?? 'armature'
    this.#host = {
      log: this.#log,
      session: () => this.#liveSession(),
      declare: (session, queue) => this.#declare(session, queue),
      send: (queue, content, properties, declare) => this.#send(queue, content, properties, Date.now() + this.#publishTimeoutMs, declare),
      backoff: (attempt) => this.#backoff(attempt),
      forget: (consumer) => this.#consumers.delete(consumer),
    }
  }

  get connected(): boolean {
    return this.#liveSession() !== undefined
  }

  /** Connects. An unreachable broker is not fatal: it resolves anyway and keeps retrying in the background. */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new AmqpError('the AMQP client is closed; create a new AmqpBroker'))
    if (!this.#started) {
      this.#started = true
      this.#firstAttempt = new Promise<void>((resolve) => (this.#settleFirstAttempt = resolve))
      this.#reconnect()
    }
    return this.#firstAttempt!
  }

  async publish(queue: string, body: Buffer | string | object, options: PublishOptions = {}): Promise<void> {
    checkQueueName(queue, 'queue', { replyQueue: true })
    let encoded: ReturnType<typeof encodeBody>
    try {
      encoded = encodeBody(body)
    } catch (error) {
      throw new AmqpError(`cannot publish to '${queue}': ${errorMessage(error)}`, { cause: error })
    }
    const properties: Options.Publish = {
      persistent: options.persistent ?? true,
      contentType: encoded.contentType,
      messageId: options.messageId ?? randomUUID(),
      timestamp: Math.floor(Date.now() / 1000),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
      ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
    }
    return this.#send(queue, encoded.content, properties, Date.now() + this.#publishTimeoutMs)
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    checkQueueName(queue, 'queue')
    if (typeof handler !== 'function') throw new AmqpError(`consume('${queue}'): the handler must be a function`)
    const deadLetter = options.deadLetter === undefined ? `${queue}.dead` : options.deadLetter
    if (deadLetter !== false) {
      checkQueueName(deadLetter, 'deadLetter')
      if (deadLetter === queue) throw new AmqpError(`consume('${queue}'): deadLetter must name another queue`)
    }
    if (this.#closing) throw new AmqpError(`consume('${queue}'): the AMQP client is closed`)
    const resolved = {
      prefetch: checkPrefetch(options.prefetch ?? this.#prefetch, 'prefetch'),
      maxRetries: checkRetries(options.maxRetries ?? this.#maxRetries),
      retryDelayMs: checkRetryDelay(options.retryDelayMs ?? this.#retryDelayMs),
      deadLetter,
    }
    if (resolved.maxRetries > 0 && resolved.retryDelayMs > 0) {
      const longest = delayQueueName(queue, retryDelay(resolved.retryDelayMs, resolved.maxRetries))
      if (Buffer.byteLength(longest) > 255) throw new AmqpError(`consume('${queue.slice(0, 40)}...'): the queue name is too long for its retry queues ('${longest.slice(-24)}' would pass 255 bytes); shorten it or set retryDelayMs: 0`)
    }
    const consumer = new AmqpConsumer(this.#host, queue, handler, resolved)
    this.#consumers.add(consumer)
    const session = this.#liveSession()
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

  /** Cancels every consumer: running handlers finish and acknowledge, unstarted deliveries requeue. */
  async cancelConsumers(): Promise<void> {
    await Promise.all([...this.#consumers].map((consumer) => consumer.cancel()))
  }

  /** Waits for pending publisher confirms, then closes channels and the connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#wakeSleep?.()
    for (const wake of [...this.#waiters]) wake()
    await Promise.allSettled([...this.#pendingPublishes])
    // Consumers not cancelled before close lose their channels with the connection; the broker
    // requeues whatever they had not acknowledged.
    for (const consumer of this.#consumers) consumer.abandon()
    this.#consumers.clear()
    await this.#reconnecting?.catch(() => {})
    const session = this.#session
    this.#session = undefined
    if (session && !session.closed) {
      session.closed = true
      await session.connection.close().catch(() => {})
    }
    this.#settleFirstAttempt()
    if (this.#started) this.#log.info('amqp connection closed')
  }

  #liveSession(): Session | undefined {
    const session = this.#session
    return session && !session.closed && !this.#closing ? session : undefined
  }

  #reconnect(): void {
    if (this.#reconnecting || this.#closing) return
    this.#reconnecting = this.#connectUntilConnected().finally(() => (this.#reconnecting = undefined))
  }

  async #connectUntilConnected(): Promise<void> {
    const lostAt = Date.now()
    for (let attempt = 1; !this.#closing; attempt++) {
      let session: Session
      try {
        session = await this.#open()
      } catch (error) {
        this.#settleFirstAttempt()
        const delayMs = Math.round(this.#backoff(attempt))
        // One line per outage; each further attempt only at debug, so a long outage does not flood the log.
        if (attempt === 1) this.#log.warn(`amqp cannot connect to ${this.#safeUrl}: ${errorMessage(error)}; retrying in the background`)
        else this.#log.debug({ attempt, delayMs }, `amqp connect attempt failed: ${errorMessage(error)}`)
        await this.#sleep(delayMs)
        continue
      }
      if (this.#closing) {
        session.closed = true
        await session.connection.close().catch(() => {})
        return
      }
      this.#session = session
      await this.#restore(session)
      if (session.closed) {
        await this.#sleep(this.#backoff(attempt))
        continue
      }
      if (this.#everConnected) this.#log.info(`amqp reconnected to ${this.#safeUrl} after ${Date.now() - lostAt} ms`)
      else this.#log.info(`amqp connected to ${this.#safeUrl}`)
      this.#everConnected = true
      this.#settleFirstAttempt()
      for (const wake of [...this.#waiters]) wake()
      return
    }
  }

  async #open(): Promise<Session> {
    const connection = await connect(this.#url, {
      timeout: 10_000,
      noDelay: true,
      clientProperties: { connection_name: this.#connectionName },
    })
    const session: Session = { connection, closed: false, declared: new Map() }
    // 'close' carries the reason; without an 'error' listener the emitter would throw it.
    connection.on('error', () => {})
    connection.on('close', (error?: Error) => this.#onConnectionClosed(session, error))
    connection.on('blocked', (reason: string) => this.#log.warn(`amqp broker blocked publishing: ${reason}`))
    connection.on('unblocked', () => this.#log.info('amqp broker unblocked publishing'))
    return session
  }

  #onConnectionClosed(session: Session, error: Error | undefined): void {
    session.closed = true
    if (this.#closing || this.#session !== session) return
    this.#session = undefined
    this.#log.warn(`amqp connection lost (${error ? errorMessage(error) : 'closed by the broker'}); reconnecting`)
    this.#reconnect()
  }

  /** After a (re)connect: assert every queue declared so far, then re-attach live consumers. */
  async #restore(session: Session): Promise<void> {
    for (const [queue, declare] of this.#queues) {
      try {
        await this.#declare(session, queue, declare)
      } catch (error) {
        if (session.closed) return
        this.#log.error(`amqp cannot re-declare queue '${queue}': ${errorMessage(error)}`)
      }
    }
    await Promise.all(
      [...this.#consumers].map((consumer) =>
        consumer.attach(session).catch((error) => {
          if (!session.closed) this.#log.error(`amqp cannot re-attach the consumer of '${consumer.queue}': ${errorMessage(error)}`)
        }),
      ),
    )
  }

  #declare(session: Session, queue: string, options: Options.AssertQueue = DURABLE): Promise<void> {
    let declared = session.declared.get(queue)
    if (!declared) {
      // Durable and shared: messages outlive a restart and any number of consumers may attach.
      declared = this.#topology(session)
        .then((channel) => channel.assertQueue(queue, options))
        .then(() => {
          this.#queues.set(queue, options)
        })
      session.declared.set(queue, declared)
      declared.catch(() => session.declared.delete(queue))
    }
    return declared
  }

  /** Declarations run on their own channel: a refused one closes that channel, not the publisher's. */
  #topology(session: Session): Promise<Channel> {
    session.topology ??= sessionChannel(session.connection.createChannel(), (opened) => {
      if (session.topology === opened) session.topology = undefined
    })
    return session.topology
  }

  #publisher(session: Session): Promise<ConfirmChannel> {
    session.publisher ??= sessionChannel(session.connection.createConfirmChannel(), (opened) => {
      if (session.publisher === opened) session.publisher = undefined
    })
    return session.publisher
  }

  #send(queue: string, content: Buffer, properties: Options.Publish, deadline: number, declare?: Options.AssertQueue): Promise<void> {
    const sent = this.#sendConfirmed(queue, content, properties, deadline, declare)
    this.#pendingPublishes.add(sent)
    const forget = () => this.#pendingPublishes.delete(sent)
    sent.then(forget, forget)
    return sent
  }

  async #sendConfirmed(queue: string, content: Buffer, properties: Options.Publish, deadline: number, declare?: Options.AssertQueue): Promise<void> {
    const session = await this.#connectedSession(deadline)
    let publisher: ConfirmChannel
    try {
      // A server-named reply queue (amq.gen-...) exists already and cannot be declared by name.
      if (!isServerNamed(queue)) await this.#declare(session, queue, declare)
      publisher = await this.#publisher(session)
    } catch (error) {
      throw new AmqpError(`cannot publish to '${queue}': ${errorMessage(error)}`, { cause: error })
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AmqpError(`no publisher confirm for '${queue}' within ${this.#publishTimeoutMs} ms; the message may or may not have been delivered`)),
        Math.max(0, deadline - Date.now()),
      )
      try {
        publisher.sendToQueue(queue, content, properties, (error: unknown) => {
          clearTimeout(timer)
          if (!error) return resolve()
          const reason = error instanceof Error ? error.message : 'the broker refused it (nack)'
          reject(new AmqpError(`message to '${queue}' was not confirmed: ${reason}; it may or may not have been delivered`))
        })
      } catch (error) {
        // A closed channel or an oversized header table throws synchronously.
        clearTimeout(timer)
        reject(new AmqpError(`cannot publish to '${queue}': ${errorMessage(error)}`, { cause: error }))
      }
    })
  }

  /** The live session, waiting for a reconnect until the deadline. */
  async #connectedSession(deadline: number): Promise<Session> {
    for (;;) {
      if (this.#closing) throw new AmqpError('the AMQP client is closed')
      if (!this.#started) throw new AmqpError('the AMQP client is not started; call start() first')
      const session = this.#liveSession()
      if (session) return session
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        throw new AmqpError(`not connected to ${this.#safeUrl} within ${this.#publishTimeoutMs} ms; still reconnecting in the background`)
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.#waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, remaining)
        this.#waiters.add(wake)
      })
    }
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so clients do not reconnect in lockstep. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * 2 ** Math.min(attempt - 1, 30))
    return ceiling / 2 + (Math.random() * ceiling) / 2
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        if (self.#wakeSleep === done) self.#wakeSleep = undefined
        resolve()
      }
      this.#wakeSleep = done
    })
  }
}

interface ResolvedConsumeOptions {
  prefetch: number
  maxRetries: number
  retryDelayMs: number
  deadLetter: string | false
}

/** One consumer on its own channel, so its prefetch and cancellation touch nothing else. */
class AmqpConsumer implements Consumer {
  readonly queue: string
  readonly #host: ConsumerHost
  readonly #handler: MessageHandler
  readonly #options: ResolvedConsumeOptions
  #channel: Channel | undefined
  /** The connection `#channel` was opened on: a channel of an earlier connection is dead even before its close event. */
  #channelSession: Session | undefined
  #consumerTag: string | undefined
  #attaching: { session: Session; done: Promise<void> } | undefined
  #stopping = false
  #cancelled: Promise<void> | undefined
  #reattachTimer: NodeJS.Timeout | undefined
  #reattachAttempt = 0
  readonly #running = new Set<Promise<void>>()

  constructor(host: ConsumerHost, queue: string, handler: MessageHandler, options: ResolvedConsumeOptions) {
    this.#host = host
    this.queue = queue
    this.#handler = handler
    this.#options = options
  }

  get inFlight(): number {
    return this.#running.size
  }

  /** Declares the queues and subscribes on a fresh channel of `session`; a no-op when already attached. */
  attach(session: Session): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    if (this.#attaching?.session === session) return this.#attaching.done
    // Attaches run one after another, so one begun on a dying connection cannot overtake this one.
    const previous = this.#attaching?.done.catch(() => {})
    const attaching = {
      session,
      done: (async () => {
        await previous
        if (this.#stopping || session.closed || (this.#channel && this.#channelSession === session)) return
        await this.#subscribe(session)
      })().finally(() => {
        if (this.#attaching === attaching) this.#attaching = undefined
      }),
    }
    this.#attaching = attaching
    return attaching.done
  }

  async #subscribe(session: Session): Promise<void> {
    await this.#host.declare(session, this.queue)
    if (this.#options.deadLetter) await this.#host.declare(session, this.#options.deadLetter)
    const channel = await session.connection.createChannel()
    channel.on('error', () => {})
    channel.on('close', () => this.#onChannelClosed(channel))
    try {
      await channel.prefetch(this.#options.prefetch)
      const { consumerTag } = await channel.consume(this.queue, (delivery) => this.#onDelivery(channel, delivery))
      this.#channel = channel
      this.#channelSession = session
      this.#consumerTag = consumerTag
      this.#reattachAttempt = 0
    } catch (error) {
      await channel.close().catch(() => {})
      throw error
    }
  }

  cancel(): Promise<void> {
    this.#cancelled ??= this.#stop()
    return this.#cancelled
  }

  /** Stops without waiting: the connection is about to close and the broker requeues what is unacknowledged. */
  abandon(): void {
    this.#stopping = true
    clearTimeout(this.#reattachTimer)
  }

  async #stop(): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#reattachTimer)
    await this.#attaching?.done.catch(() => {})
    const channel = this.#channel
    if (channel && this.#consumerTag) {
      // After cancel-ok the broker sends nothing more; deliveries that raced it are requeued in #onDelivery.
      await channel.cancel(this.#consumerTag).catch(() => {})
    }
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
    // Closing the channel returns anything still unacknowledged to the queue.
    if (channel) await channel.close().catch(() => {})
    this.#channel = undefined
    this.#host.forget(this)
  }

  #onDelivery(channel: Channel, delivery: ConsumeMessage | null): void {
    if (delivery === null) {
      // The broker cancelled this consumer (its queue was deleted, or its node left the cluster).
      if (this.#stopping) return
      this.#host.log.warn(`amqp consumer of '${this.queue}' was cancelled by the broker; re-attaching`)
      if (channel === this.#channel) this.#channel = undefined
      channel.close().catch(() => {})
      this.#scheduleReattach()
      return
    }
    if (this.#stopping) {
      settle(channel, delivery, 'requeue')
      return
    }
    const running: Promise<void> = this.#handle(channel, delivery).finally(() => this.#running.delete(running))
    this.#running.add(running)
  }

  async #handle(channel: Channel, delivery: ConsumeMessage): Promise<void> {
    const attempt = attemptOf(delivery.properties.headers)
    try {
      await this.#handler(toQueueMessage(this.queue, delivery, attempt))
    } catch (error) {
      await this.#retryOrDeadLetter(channel, delivery, attempt, error)
      return
    }
    settle(channel, delivery, 'ack')
  }

  /**
   * A failed message goes back to the tail of its queue with the attempt count raised, then the
   * original is acknowledged: the count travels with the message, so retries stay bounded even
   * across restarts. A malformed body cannot improve with retries and dead-letters at once.
   */
  async #retryOrDeadLetter(channel: Channel, delivery: ConsumeMessage, attempt: number, error: unknown): Promise<void> {
    const reason = errorMessage(error)
    const { maxRetries, deadLetter } = this.#options
    const retry = !(error instanceof MalformedMessageError) && attempt <= maxRetries
    const headers = { ...delivery.properties.headers }
    let target: string
    let declare: Options.AssertQueue | undefined
    if (retry) {
      const delayMs = retryDelay(this.#options.retryDelayMs, attempt)
      target = delayMs > 0 ? delayQueueName(this.queue, delayMs) : this.queue
      declare = delayMs > 0 ? delayQueue(this.queue, delayMs) : undefined
      headers[ATTEMPT_HEADER] = attempt + 1
      this.#host.log.warn(`amqp handler for '${this.queue}' failed (attempt ${attempt} of ${maxRetries + 1}): ${reason}; retrying ${delayMs > 0 ? `in ${delayMs} ms` : 'now'}`)
    } else if (deadLetter) {
      target = deadLetter
      headers[ATTEMPT_HEADER] = attempt
      headers[ERROR_HEADER] = reason.slice(0, 1024)
      headers[ORIGIN_HEADER] = this.queue
      this.#host.log.error(`amqp handler for '${this.queue}' failed (attempt ${attempt} of ${maxRetries + 1}): ${reason}; moved to '${deadLetter}'`)
    } else {
      this.#host.log.error(`amqp handler for '${this.queue}' failed (attempt ${attempt} of ${maxRetries + 1}): ${reason}; rejected`)
      settle(channel, delivery, 'reject')
      return
    }
    try {
      await this.#host.send(target, delivery.content, republishProperties(delivery, headers), declare)
    } catch (sendError) {
      // Not safely copied: leave the original in the queue, to be tried again with the same count.
      this.#host.log.warn(`amqp could not move a failed message of '${this.queue}' to '${target}': ${errorMessage(sendError)}; requeued`)
      settle(channel, delivery, 'requeue')
      return
    }
    settle(channel, delivery, 'ack')
  }

  #onChannelClosed(channel: Channel): void {
    if (channel !== this.#channel) return
    this.#channel = undefined
    this.#consumerTag = undefined
    // A lost connection re-attaches every consumer on reconnect; a channel closed on a live
    // connection (the broker refused something) re-attaches on its own, with backoff.
    if (!this.#stopping && this.#host.session()) this.#scheduleReattach()
  }

  #scheduleReattach(): void {
    if (this.#stopping || this.#reattachTimer) return
    this.#reattachTimer = setTimeout(() => {
      this.#reattachTimer = undefined
      const session = this.#host.session()
      if (!session || this.#stopping) return
      this.attach(session).catch((error) => {
        if (session.closed) return
        this.#host.log.error(`amqp cannot re-attach the consumer of '${this.queue}': ${errorMessage(error)}`)
        this.#scheduleReattach()
      })
    }, this.#host.backoff(++this.#reattachAttempt))
  }
}

/** Acks, requeues or rejects; on a channel already closed the broker has requeued the message itself. */
function settle(channel: Channel, delivery: ConsumeMessage, outcome: 'ack' | 'requeue' | 'reject'): void {
  try {
    if (outcome === 'ack') channel.ack(delivery)
    else channel.nack(delivery, false, outcome === 'requeue')
  } catch {
    // IllegalOperationError: channel closed. The delivery returns to the queue (at-least-once).
  }
}

function toQueueMessage(queue: string, delivery: ConsumeMessage, attempt: number): QueueMessage {
  const { properties, content } = delivery
  return {
    queue,
    body: content,
    headers: { ...properties.headers },
    contentType: properties.contentType,
    correlationId: properties.correlationId,
    replyTo: properties.replyTo,
    messageId: properties.messageId,
    redelivered: delivery.fields.redelivered,
    attempt,
    text: () => content.toString('utf8'),
    json<T>(): T {
      try {
        return JSON.parse(content.toString('utf8')) as T
      } catch (error) {
        throw new MalformedMessageError(queue, `body is not valid JSON (${errorMessage(error)})`)
      }
    },
  }
}

function republishProperties(delivery: ConsumeMessage, headers: Record<string, unknown>): Options.Publish {
  const p = delivery.properties
  return {
    headers,
    persistent: p.deliveryMode === 2,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
  }
}

function isServerNamed(queue: string): boolean {
  return queue.startsWith('amq.')
}

function checkQueueName(name: unknown, key: string, { replyQueue = false } = {}): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new AmqpError(`${key}: expected a non-empty queue name, got ${JSON.stringify(name)}`)
  }
  if (Buffer.byteLength(name) > 255) throw new AmqpError(`${key}: queue name '${name.slice(0, 40)}...' is longer than 255 bytes`)
  // Publishing to a server-named reply queue (a request's replyTo) is fine; declaring or consuming one by name is not.
  if (isServerNamed(name) && !replyQueue) throw new AmqpError(`${key}: queue name '${name}' uses the broker's reserved 'amq.' prefix`)
}

function checkPrefetch(value: number, key: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PREFETCH) {
    throw new AmqpError(`${key}: expected an integer from 1 to ${MAX_PREFETCH}, got ${value}`)
  }
  return value
}

/**
 * A channel a session keeps for reuse: `forget` is told when it closes or fails to open, so
 * the next use opens a new one. Channel errors also arrive as a close.
 */
function sessionChannel<C extends Channel>(opening: Promise<C>, forget: (opened: Promise<C>) => void): Promise<C> {
  const opened: Promise<C> = opening.then((channel) => {
    channel.on('error', () => {})
    channel.on('close', () => forget(opened))
    return channel
  })
  opened.catch(() => forget(opened))
  return opened
}

function checkRetryDelay(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_RETRY_DELAY_MS) {
    throw new AmqpError(`retryDelayMs: expected an integer from 0 to ${MAX_RETRY_DELAY_MS}, got ${value}`)
  }
  return value
}

/** The wait before retry number `attempt` (1 after the first failure): doubling, capped. */
export function retryDelay(baseMs: number, attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.min(attempt - 1, 30))
}

/**
 * Where a message waits before a retry: one queue per queue and delay, whose messages expire
 * after the delay and are dead-lettered (by the broker) back to the queue's tail. Its name
 * carries the delay because a queue's arguments cannot change once declared.
 */
export function delayQueueName(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}ms`
}

function delayQueue(queue: string, delayMs: number): Options.AssertQueue {
  return { durable: true, arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } }
}

function checkRetries(value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new AmqpError(`maxRetries: expected an integer >= 0, got ${value}`)
  return value
}

function withDefaultHeartbeat(url: string, seconds: number): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new AmqpError(`AMQP_URL: '${redact(url)}' is not a URL; expected amqp://user:pass@host:5672/vhost`)
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new AmqpError(`AMQP_URL: protocol '${parsed.protocol}' is not supported; expected amqp: or amqps:`)
  }
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds))
  return parsed.toString()
}

/** The URL without its password, for logs and errors. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<invalid url>'
  }
}

