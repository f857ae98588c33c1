// One AMQP consumer on its own channel, so its prefetch and cancellation touch nothing else:
// deliveries run the handler concurrently up to the prefetch, a resolved handler acks (in bulk
// with the others finishing in the same turn, ack-batcher.ts), a failed one is routed by the
// failure policy, and a cancel lets running handlers finish.
import type { Channel, ConsumeMessage, Options } from 'amqplib'
import type { Logger } from 'pino'
import { errorMessage } from '../../errors.ts'
import type { Consumer, MessageHandler, ResolvedConsumeOptions } from '../../queue.ts'
import { afterFailure, describeFailure } from '../../queue/failure-policy.ts'
import { attemptOf, queueMessage } from '../../queue/message.ts'
import { AckBatcher, type TrackedDelivery } from './ack-batcher.ts'
import type { Session } from './session.ts'
import { failureRoute, republishProperties } from './retry.ts'

/** What a consumer needs from its broker, without reaching into the broker's private state. */
export interface ConsumerHost {
  readonly log: Logger
  live(): Session | undefined
  declare(session: Session, queue: string): Promise<void>
  /** Publishes with a confirm; `declare` says how to declare the queue when it is new (default durable). */
  send(queue: string, content: Buffer, properties: Options.Publish, declare?: Options.AssertQueue): Promise<void>
  backoff(attempt: number): number
  forget(consumer: AmqpConsumer): void
}

export class AmqpConsumer implements Consumer {
  readonly queue: string
  readonly #host: ConsumerHost
  readonly #handler: MessageHandler
  readonly #options: ResolvedConsumeOptions
  #channel: Channel | undefined
  /** The connection `#channel` was opened on: a channel of an earlier connection is dead even before its close event. */
  #channelSession: Session | undefined
  #consumerTag: string | undefined
  /** Acknowledgements of `#channel`. */
  #acks: AckBatcher | undefined
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

  cancel(): Promise<void> {
    this.#cancelled ??= this.#stop()
    return this.#cancelled
  }

  /** Stops without waiting: the connection is about to close and the broker requeues what is unacknowledged. */
  abandon(): void {
    this.#stopping = true
    clearTimeout(this.#reattachTimer)
  }

  async #subscribe(session: Session): Promise<void> {
    await this.#host.declare(session, this.queue)
    if (this.#options.deadLetter) await this.#host.declare(session, this.#options.deadLetter)
    const channel = await session.connection.createChannel()
    channel.on('error', () => {})
    channel.on('close', () => this.#onChannelClosed(channel))
    const acks = new AckBatcher(channel)
    try {
      await channel.prefetch(this.#options.prefetch)
      const { consumerTag } = await channel.consume(this.queue, (delivery) => this.#onDelivery(channel, acks, delivery))
      this.#channel = channel
      this.#acks = acks
      this.#channelSession = session
      this.#consumerTag = consumerTag
      this.#reattachAttempt = 0
    } catch (error) {
      await channel.close().catch(() => {})
      throw error
    }
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
    // What was handled is acknowledged now; closing the channel returns anything still unacknowledged to the queue.
    this.#acks?.close()
    if (channel) await channel.close().catch(() => {})
    this.#channel = undefined
    this.#acks = undefined
    this.#host.forget(this)
  }

  #onDelivery(channel: Channel, acks: AckBatcher, delivery: ConsumeMessage | null): void {
    if (delivery === null) {
      // The broker cancelled this consumer (its queue was deleted, or its node left the cluster).
      if (this.#stopping) return
      this.#host.log.warn(`amqp consumer of '${this.queue}' was cancelled by the broker; re-attaching`)
      if (channel === this.#channel) this.#channel = undefined
      acks.close()
      channel.close().catch(() => {})
      this.#scheduleReattach()
      return
    }
    if (this.#stopping) {
      settle(channel, delivery, 'requeue')
      return
    }
    const running: Promise<void> = this.#handle(channel, acks, acks.track(delivery)).finally(() => this.#running.delete(running))
    this.#running.add(running)
  }

  async #handle(channel: Channel, acks: AckBatcher, tracked: TrackedDelivery): Promise<void> {
    const delivery = tracked.delivery as ConsumeMessage
    const { properties, content } = delivery
    try {
      await this.#handler(
        queueMessage({
          queue: this.queue,
          body: content,
          headers: properties.headers,
          contentType: properties.contentType,
          correlationId: properties.correlationId,
          replyTo: properties.replyTo,
          messageId: properties.messageId,
          redelivered: delivery.fields.redelivered,
        }),
      )
    } catch (error) {
      await this.#routeFailure(channel, acks, tracked, error)
      return
    }
    acks.ack(tracked)
  }

  /**
   * A failed message is published again (to a delay queue, the queue itself, or the dead
   * letter) and only then is the original acknowledged, so a lost connection in between
   * leaves the original in the queue rather than losing it.
   */
  async #routeFailure(channel: Channel, acks: AckBatcher, tracked: TrackedDelivery, error: unknown): Promise<void> {
    const delivery = tracked.delivery as ConsumeMessage
    const headers = { ...delivery.properties.headers }
    const attempt = attemptOf(headers)
    const outcome = afterFailure({ queue: this.queue, attempt, headers }, error, this.#options)
    const line = `amqp ${describeFailure(this.queue, attempt, this.#options.maxRetries, outcome)}`
    if (outcome.action === 'retry') this.#host.log.warn(line)
    else this.#host.log.error(line)
    if (outcome.action === 'reject') {
      acks.settled(tracked)
      settle(channel, delivery, 'reject')
      return
    }
    const { target, declare } = failureRoute(this.queue, outcome)
    try {
      await this.#host.send(target, delivery.content, republishProperties(delivery, outcome.headers), declare)
    } catch (sendError) {
      // Not safely copied: leave the original in the queue, to be tried again with the same count.
      this.#host.log.warn(`amqp could not move a failed message of '${this.queue}' to '${target}': ${errorMessage(sendError)}; requeued`)
      acks.settled(tracked)
      settle(channel, delivery, 'requeue')
      return
    }
    acks.ack(tracked)
  }

  #onChannelClosed(channel: Channel): void {
    if (channel !== this.#channel) return
    this.#channel = undefined
    this.#acks = undefined
    this.#consumerTag = undefined
    // A lost connection re-attaches every consumer on reconnect; a channel closed on a live
    // connection (the broker refused something) re-attaches on its own, with backoff.
    if (!this.#stopping && this.#host.live()) this.#scheduleReattach()
  }

  #scheduleReattach(): void {
    if (this.#stopping || this.#reattachTimer) return
    this.#reattachTimer = setTimeout(() => {
      this.#reattachTimer = undefined
      const session = this.#host.live()
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
