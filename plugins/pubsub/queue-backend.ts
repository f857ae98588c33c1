// The queue port's backend on the pubsub broker: a queue is a topic, publish appends to it,
// consume joins the shared group `queue:<name>` with push delivery (prefetch = maxAckPending).
// A failed message follows the port's failure policy: a copy with the attempt raised goes to
// the tail after a delay kept by the broker (a delayed append), or to the dead-letter topic.
import { randomUUID } from 'node:crypto'
import {
  QueueError,
  afterFailure,
  encodeBody,
  queueMessage,
  resolveConsumeOptions,
  type ConsumeOptions,
  type Consumer,
  type MessageHandler,
  type PublishOptions,
  type QueueBackend,
  type QueueBackendDescription,
  type ResolvedConsumeOptions,
} from '@armature/core'
import type { Logger } from 'pino'
import { isTopicName, type Delivery, type ProduceRecord, type StoredRecord } from './src/index.ts'
import type { PushBroker, Subscription } from './src/subscription.ts'

/** Record headers carrying the queue message's properties. */
const H = { contentType: 'content-type', messageId: 'message-id', correlationId: 'correlation-id', replyTo: 'reply-to', headers: 'x-queue-headers' } as const

export interface QueueBackendOptions {
  log: Logger
  prefetch: number
  retryDelayMs: number
  /** Partitions of a queue's topic when the backend creates it. */
  partitions: number
  sessionTimeoutMs: number
}

export class PubsubQueueBackend implements QueueBackend {
  readonly name = 'pubsub'
  readonly #broker: PushBroker
  readonly #options: QueueBackendOptions
  readonly #consumers = new Set<PubsubQueueConsumer>()
  readonly #publishing = new Set<Promise<unknown>>()
  #closed = false

  constructor(broker: PushBroker, options: QueueBackendOptions) {
    this.#broker = broker
    this.#options = options
  }

  async publish(queue: string, body: Buffer | string | object, options: PublishOptions = {}): Promise<void> {
    this.#open(queue)
    const { content, contentType } = encodeBody(body)
    const headers: Record<string, string> = { [H.contentType]: contentType, [H.messageId]: options.messageId ?? randomUUID() }
    if (options.correlationId !== undefined) headers[H.correlationId] = options.correlationId
    if (options.replyTo !== undefined) headers[H.replyTo] = options.replyTo
    if (options.headers && Object.keys(options.headers).length) headers[H.headers] = JSON.stringify(options.headers)
    const sending = this.#send(queue, [{ value: content, headers }])
    this.#publishing.add(sending)
    try {
      await sending
    } finally {
      this.#publishing.delete(sending)
    }
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    this.#open(queue)
    const resolved = resolveConsumeOptions(queue, handler, options, { prefetch: this.#options.prefetch, maxRetries: 3, retryDelayMs: this.#options.retryDelayMs })
    if (resolved.deadLetter !== false && !isTopicName(resolved.deadLetter))
      throw new QueueError(`deadLetter: ${JSON.stringify(resolved.deadLetter)} is not a valid pubsub topic name`)
    await this.#broker.ensureTopic(queue, this.#options.partitions)
    const consumer = new PubsubQueueConsumer(queue, handler, resolved, this.#broker, this.#options.log, (c) => this.#consumers.delete(c))
    await consumer.start(this.#options.sessionTimeoutMs)
    this.#consumers.add(consumer)
    return consumer
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.allSettled([...this.#publishing])
    // Consumers the port did not cancel leave the group: what they held goes to the next member.
    await Promise.all([...this.#consumers].map((c) => c.abandon()))
  }

  describe(): QueueBackendDescription {
    return { name: this.name, connected: this.#broker.connected && !this.#closed, consumers: this.#consumers.size, broker: this.#broker.where }
  }

  async #send(queue: string, records: ProduceRecord[]): Promise<void> {
    await this.#broker.ensureTopic(queue, this.#options.partitions)
    await this.#broker.produce(queue, records)
  }

  #open(queue: string): void {
    if (this.#closed) throw new QueueError(`queue backend 'pubsub' is closed`)
    if (!isTopicName(queue)) throw new QueueError(`queue ${JSON.stringify(queue)}: a pubsub queue name is 1 to 249 of [a-zA-Z0-9._-]`)
  }
}

class PubsubQueueConsumer implements Consumer {
  readonly #running = new Set<Promise<void>>()
  #subscription: Subscription | undefined
  #stopping = false
  #cancelled: Promise<void> | undefined

  constructor(
    readonly queue: string,
    readonly handler: MessageHandler,
    readonly options: ResolvedConsumeOptions,
    readonly broker: PushBroker,
    readonly log: Logger,
    readonly forget: (consumer: PubsubQueueConsumer) => void,
  ) {}

  get inFlight(): number {
    return this.#running.size
  }

  async start(sessionTimeoutMs: number): Promise<void> {
    this.#subscription = await this.broker.subscribe(
      {
        group: `queue:${this.queue}`,
        topics: [this.queue],
        mode: 'shared',
        // Failures are the port's business (retry copies, dead letter); the broker only redelivers what a lost member held.
        push: { maxAckPending: this.options.prefetch, ackWaitMs: 0, maxDeliveries: 0 },
        sessionTimeoutMs,
        clientId: 'queue-port',
      },
      (delivery) => this.#deliver(delivery),
    )
  }

  cancel(): Promise<void> {
    this.#cancelled ??= (async () => {
      this.#stopping = true
      this.#subscription?.pause()
      while (this.#running.size) await Promise.allSettled([...this.#running])
      await this.#subscription?.close()
      this.forget(this)
    })()
    return this.#cancelled
  }

  /** The backend closes under a consumer not cancelled: leave at once, so what it holds is redelivered. */
  async abandon(): Promise<void> {
    this.#stopping = true
    await this.#subscription?.close()
    this.forget(this)
  }

  #deliver(delivery: Delivery): void {
    if (this.#stopping) return
    const running: Promise<void> = this.#handle(delivery).finally(() => this.#running.delete(running))
    this.#running.add(running)
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { record } = delivery
    const message = queueMessage({
      queue: this.queue,
      body: record.value,
      headers: headersOf(record),
      contentType: record.headers[H.contentType],
      correlationId: record.headers[H.correlationId],
      replyTo: record.headers[H.replyTo],
      messageId: record.headers[H.messageId],
      redelivered: delivery.deliveries > 1,
    })
    // A turn of the event loop first, so deliveries never run inside the broker's dispatch.
    await Promise.resolve()
    try {
      await this.handler(message)
    } catch (error) {
      const outcome = afterFailure(message, error, this.options)
      try {
        if (outcome.action === 'retry') await this.broker.produceDelayed(this.queue, [withHeaders(record, outcome.headers)], outcome.delayMs)
        else if (outcome.action === 'dead-letter') {
          await this.broker.ensureTopic(outcome.queue, 1)
          await this.broker.produce(outcome.queue, [withHeaders(record, outcome.headers)])
        }
      } catch (routing) {
        // The copy was not stored: give the message back instead of losing it.
        this.log.error(`queue '${this.queue}': could not route a failed message (${errorMessage(routing)}); it is delivered again`)
        this.#subscription?.nak(delivery, 1000)
        return
      }
    }
    this.#subscription?.ack(delivery)
  }
}

function headersOf(record: StoredRecord): Record<string, unknown> {
  const raw = record.headers[H.headers]
  if (!raw) return {}
  try {
    return JSON.parse(raw) as Record<string, unknown>
  } catch {
    return {}
  }
}

function withHeaders(record: StoredRecord, headers: Record<string, unknown>): ProduceRecord {
  return { key: record.key, value: record.value, headers: { ...record.headers, [H.headers]: JSON.stringify(headers) } }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
