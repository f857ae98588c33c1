// What a push consumer needs from a broker, in process or across the network: produce,
// delayed produce, and a push subscription with acks. The queue port's backend is written
// against this, so the same backend runs on the broker in this process or on one reached
// over gRPC (PUBSUB_URL).
import type { AssignorName } from './assignors.ts'
import type { Broker } from './broker.ts'
import type { Delivery } from './dispatcher.ts'
import type { GroupMode, PushOptions } from './group.ts'
import type { ProduceRecord } from './record.ts'

export interface Subscription {
  ack(delivery: Delivery): void
  nak(delivery: Delivery, delayMs: number): void
  /** No new deliveries; what is held may still be acknowledged. */
  pause(): void
  /** Leaves the group: what is unacknowledged goes to another member or the next one. */
  close(): Promise<void>
}

export interface SubscribeOptions {
  group: string
  topics: string[]
  mode: GroupMode
  push: PushOptions
  sessionTimeoutMs: number
  clientId?: string
  /** Exclusive groups: how partitions are shared out (the broker's default, cooperative-sticky, when absent). */
  assignor?: AssignorName
}

export interface PushBroker {
  /** Creates the topic with `partitions` when it does not exist. */
  ensureTopic(topic: string, partitions: number): Promise<void>
  produce(topic: string, records: ProduceRecord[]): Promise<void>
  produceDelayed(topic: string, records: ProduceRecord[], delayMs: number): Promise<void>
  subscribe(options: SubscribeOptions, sink: (delivery: Delivery) => void): Promise<Subscription>
  readonly connected: boolean
  readonly where: string
}

/** The broker of this process, through the PushBroker face. */
export class LocalPushBroker implements PushBroker {
  readonly connected = true
  readonly where = 'in-process'
  constructor(readonly broker: Broker) {}

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    if (!this.broker.hasTopic(topic)) this.broker.createTopic(topic, { partitions })
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<void> {
    await this.broker.produce(topic, records)
  }

  produceDelayed(topic: string, records: ProduceRecord[], delayMs: number): Promise<void> {
    return this.broker.delayed.schedule(topic, records, delayMs)
  }

  async subscribe(options: SubscribeOptions, sink: (delivery: Delivery) => void): Promise<Subscription> {
    const { broker } = this
    const { memberId } = broker.join(options.group, {
      topics: options.topics,
      sessionTimeoutMs: options.sessionTimeoutMs,
      mode: options.mode,
      ...(options.assignor ? { assignor: options.assignor } : {}),
      clientId: options.clientId,
      push: { options: options.push, sink },
    })
    const group = broker.group(options.group)
    // In process the member cannot vanish without the broker: heartbeats just keep the session.
    const beat = setInterval(
      () => {
        try {
          group.heartbeat(memberId, Date.now())
        } catch {
          clearInterval(beat)
        }
      },
      Math.max(50, Math.floor(options.sessionTimeoutMs / 3)),
    )
    beat.unref()
    let closed = false
    return {
      ack: (d) => !closed && group.ack(memberId, d.topic, d.partition, d.record.offset),
      nak: (d, delayMs) => !closed && group.nak(memberId, d.topic, d.partition, d.record.offset, delayMs, Date.now()),
      pause: () => !closed && group.pause(memberId),
      close: async () => {
        if (closed) return
        closed = true
        clearInterval(beat)
        try {
          group.leave(memberId)
        } catch {
          // Already gone (its session ended): nothing to give back.
        }
      },
    }
  }
}
