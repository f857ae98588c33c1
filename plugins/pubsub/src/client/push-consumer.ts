// A push subscription over the Subscribe stream: deliveries in, acknowledgements out (gathered
// per turn of the event loop). Used by the remote queue backend and by consumers in push mode.
import type { Delivery } from '../dispatcher.ts'
import type { ProduceRecord } from '../record.ts'
import type { PushBroker, SubscribeOptions, Subscription } from '../subscription.ts'
import { packProduce, unpackStored } from '../packed.ts'
import { asError, PubsubConnection, type ConnectionOptions } from './connection.ts'

interface AckRange {
  topic: string
  partition: number
  first_offset: number
  count: number
}

export function subscribe(
  connection: PubsubConnection,
  options: SubscribeOptions,
  sink: (delivery: Delivery) => void,
  onEnd?: (error: Error | undefined) => void,
  onJoined?: (state: { memberId: string; generation: number }) => void,
): Promise<Subscription> {
  const stream = connection.raw.Subscribe()
  // This turn's acknowledgements as runs of consecutive offsets (deliveries are acknowledged
  // mostly in order, so a turn's thousand acks are a few ranges).
  let ranges: AckRange[] = []
  let last: AckRange | undefined
  let closed = false
  const flush = () => {
    const batch = ranges
    ranges = []
    last = undefined
    if (batch.length && !closed) stream.write({ ack_ranges: batch })
  }
  return new Promise((resolve, reject) => {
    let joined = false
    stream.on('data', (reply: { joined: { member_id: string; generation: number } | null; packed_deliveries: Array<{ topic: string; partition: number; records: Buffer }> }) => {
      if (reply.joined && !joined) {
        joined = true
        onJoined?.({ memberId: reply.joined.member_id, generation: reply.joined.generation })
        resolve({
          ack(d) {
            if (ranges.length === 0) setImmediate(flush)
            const offset = d.record.offset
            if (last && last.partition === d.partition && last.topic === d.topic && last.first_offset + last.count === offset) last.count++
            else ranges.push((last = { topic: d.topic, partition: d.partition, first_offset: offset, count: 1 }))
          },
          nak(d, delayMs) {
            if (!closed) stream.write({ naks: [{ topic: d.topic, partition: d.partition, offset: d.record.offset }], nak_delay_ms: delayMs })
          },
          pause() {
            if (!closed) stream.write({ pause: true })
          },
          async close() {
            if (closed) return
            flush()
            closed = true
            stream.end()
          },
        })
      }
      for (const p of reply.packed_deliveries ?? []) {
        unpackStored(p.records, (record, deliveries) => sink({ topic: p.topic, partition: p.partition, record, deliveries }))
      }
    })
    const ended = (error?: Error) => {
      const wasClosed = closed
      closed = true
      if (!joined) reject(error ? asError(error as never) : new Error('the Subscribe stream ended before joining'))
      else if (!wasClosed) onEnd?.(error ? asError(error as never) : undefined)
    }
    stream.on('error', ended)
    stream.on('end', () => ended())
    stream.write({
      join: {
        group: options.group,
        topics: options.topics,
        session_timeout_ms: options.sessionTimeoutMs,
        mode: options.mode,
        assignor: options.assignor ?? '',
        client_id: options.clientId ?? '',
      },
      push: { max_ack_pending: options.push.maxAckPending, ack_wait_ms: options.push.ackWaitMs, max_deliveries: options.push.maxDeliveries, packed: true },
    })
  })
}

/** The broker of another process (PUBSUB_URL), through the PushBroker face. A lost subscription rejoins. */
export class RemotePushBroker implements PushBroker {
  readonly connection: PubsubConnection
  #lost = false

  constructor(url: string, options: ConnectionOptions = {}) {
    this.connection = new PubsubConnection(url, options)
  }

  get connected(): boolean {
    return !this.#lost
  }
  get where(): string {
    return this.connection.url
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    await this.connection.call('CreateTopic', { name: topic, partitions, if_not_exists: true })
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<void> {
    await this.connection.call('Produce', { topic, packed_records: packProduce(records) })
  }

  async produceDelayed(topic: string, records: ProduceRecord[], delayMs: number): Promise<void> {
    await this.connection.call('Produce', { topic, packed_records: packProduce(records), delay_ms: delayMs })
  }

  async subscribe(options: SubscribeOptions, sink: (delivery: Delivery) => void): Promise<Subscription> {
    let current: Subscription | undefined
    let stopped = false
    let paused = false
    const attach = async (): Promise<void> => {
      current = await subscribe(this.connection, options, sink, () => {
        // The stream broke: what this member held goes back to the broker's other members; join again.
        this.#lost = true
        if (stopped) return
        const retry = (delay: number) =>
          setTimeout(() => {
            if (stopped) return
            attach().then(
              () => {
                this.#lost = false
                if (paused) current?.pause()
              },
              () => retry(Math.min(delay * 2, 5000)),
            )
          }, delay).unref()
        retry(100)
      })
    }
    await attach()
    return {
      ack: (d) => current?.ack(d),
      nak: (d, delayMs) => current?.nak(d, delayMs),
      pause: () => {
        paused = true
        current?.pause()
      },
      close: async () => {
        stopped = true
        await current?.close()
      },
    }
  }

  close(): void {
    this.connection.close()
  }
}
