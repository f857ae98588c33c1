// A push member of an exclusive group: the broker streams records over Subscribe (at most
// maxAckPending unacknowledged), the member runs the handler one record at a time per
// partition and acknowledges it after the handler returned; a failed handler naks it with a
// growing delay (after maxDeliveries the broker dead-letters it). The stream is the heartbeat;
// when it breaks, what was unacknowledged goes back to the broker and the member subscribes
// again with backoff. Records of a broken stream that had not started are dropped here (the
// broker delivers them again).
import { tpKey } from '../assignors.ts'
import type { Delivery } from '../dispatcher.ts'
import { PubsubError } from '../errors.ts'
import type { Subscription } from '../subscription.ts'
import { ConnectionError, type PubsubConnection } from './connection.ts'
import { retryDelay, sleep, type ConsumerEvents, type ResolvedConsumerOptions, type RunOptions } from './consumer-options.ts'
import { subscribe } from './push-consumer.ts'

type Emit = <E extends keyof ConsumerEvents>(name: E, ...args: ConsumerEvents[E]) => void

/** One Subscribe stream: acknowledgements must go to the stream the delivery came on. */
interface Stream {
  subscription: Subscription | undefined
  ended: boolean
}

interface Queue {
  items: Array<{ delivery: Delivery; stream: Stream }>
  draining: Promise<void> | undefined
}

export class PushMember {
  #stream: Stream | undefined
  readonly #queues = new Map<string, Queue>()
  #stopped = false
  #memberId = ''

  constructor(
    readonly connection: PubsubConnection,
    readonly options: ResolvedConsumerOptions,
    readonly topics: string[],
    readonly handlers: RunOptions,
    readonly emit: Emit,
  ) {}

  get memberId(): string {
    return this.#memberId
  }

  async start(): Promise<void> {
    await this.#attach()
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    const stream = this.#stream
    stream?.subscription?.pause()
    // Records queued but not started stay unacknowledged (the broker redelivers them); the ones in hand finish and are acknowledged.
    for (const queue of this.#queues.values()) queue.items = []
    await Promise.all([...this.#queues.values()].map((q) => q.draining ?? Promise.resolve()))
    await stream?.subscription?.close()
  }

  async #attach(): Promise<void> {
    const stream: Stream = { subscription: undefined, ended: false }
    this.#stream = stream
    const { options } = this
    stream.subscription = await subscribe(
      this.connection,
      {
        group: options.groupId,
        topics: this.topics,
        mode: 'exclusive',
        assignor: options.assignor,
        sessionTimeoutMs: options.sessionTimeoutMs,
        clientId: options.clientId,
        push: { maxAckPending: options.maxAckPending, ackWaitMs: options.ackWaitMs, maxDeliveries: options.maxDeliveries },
      },
      (delivery) => this.#enqueue(delivery, stream),
      (error) => this.#lost(stream, error),
      (state) => {
        this.#memberId = state.memberId
        this.emit('join', state)
      },
    )
  }

  #lost(stream: Stream, error: Error | undefined): void {
    stream.ended = true
    if (this.#stopped) return
    this.emit('warning', error ?? new ConnectionError('the Subscribe stream ended'))
    void (async () => {
      for (let attempt = 0; !this.#stopped; attempt++) {
        await sleep(retryDelay(this.options.retryDelayMs, attempt))
        if (this.#stopped) return
        try {
          await this.#attach()
          return
        } catch (e) {
          this.emit('warning', e as Error)
          if (e instanceof PubsubError && !e.retriable && e.code !== 'STOPPING') {
            // A refusal that will not heal by itself (the topic was deleted...): keep trying slowly.
            await sleep(1000)
          }
        }
      }
    })()
  }

  #enqueue(delivery: Delivery, stream: Stream): void {
    if (this.#stopped) return
    const key = tpKey(delivery)
    let queue = this.#queues.get(key)
    if (!queue) this.#queues.set(key, (queue = { items: [], draining: undefined }))
    queue.items.push({ delivery, stream })
    queue.draining ??= this.#drain(queue).finally(() => (queue.draining = undefined))
  }

  async #drain(queue: Queue): Promise<void> {
    while (queue.items.length) {
      const taken = this.handlers.eachBatch ? queue.items.splice(0) : queue.items.splice(0, 1)
      const live = taken.filter((i) => !i.stream.ended)
      if (live.length === 0) continue
      await this.#handle(live)
    }
  }

  async #handle(items: Array<{ delivery: Delivery; stream: Stream }>): Promise<void> {
    const first = items[0]!.delivery
    const handled = new Set<number>()
    const ack = (i: { delivery: Delivery; stream: Stream }) => {
      handled.add(i.delivery.record.offset)
      if (!i.stream.ended) i.stream.subscription?.ack(i.delivery)
    }
    try {
      if (this.handlers.eachBatch) {
        await this.handlers.eachBatch({
          batch: { topic: first.topic, partition: first.partition, messages: items.map((i) => i.delivery.record), highWatermark: -1 },
          resolveOffset: (offset) => {
            for (const i of items) if (i.delivery.record.offset <= offset && !handled.has(i.delivery.record.offset)) ack(i)
          },
          heartbeat: async () => {},
          commit: async () => {},
          isRunning: () => !this.#stopped && !items[0]!.stream.ended,
        })
      } else {
        await this.handlers.eachMessage!({
          topic: first.topic,
          partition: first.partition,
          message: first.record,
          deliveries: first.deliveries,
          heartbeat: async () => {},
          commit: async () => {},
        })
      }
      for (const i of items) if (!handled.has(i.delivery.record.offset)) ack(i)
    } catch (error) {
      const failed = items.filter((i) => !handled.has(i.delivery.record.offset))
      this.emit('retry', {
        error: error instanceof Error ? error : new Error(String(error)),
        topic: first.topic,
        partition: first.partition,
        offset: failed[0]?.delivery.record.offset ?? -1,
      })
      for (const i of failed) if (!i.stream.ended) i.stream.subscription?.nak(i.delivery, retryDelay(this.options.retryDelayMs, i.delivery.deliveries - 1))
    }
  }
}
