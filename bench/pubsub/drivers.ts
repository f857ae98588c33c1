// One producer face and one consumer face per broker, so the producer and consumer processes
// run the same loop against each: Armature pubsub over gRPC (its own client), RabbitMQ through
// amqplib (publisher confirms, prefetch 1000) and NATS JetStream through `nats`.
import amqp from 'amqplib'
import { AckPolicy, connect as natsConnect, StorageType, type NatsConnection } from 'nats'
import { PubsubConnection, Producer, subscribe, type ProducerOptions } from '../../plugins/pubsub/src/index.ts'

export type System = 'armature' | 'rabbitmq' | 'jetstream'

/** What both processes of one run are told (as JSON in BENCH_SCENARIO). */
export interface Scenario {
  system: System
  /** armature: memory or file; rabbitmq: transient or durable; jetstream: memory or file. */
  storage: string
  /** Topic, queue or stream name, unique per run. */
  name: string
  /** Consumer groups (queues, durable consumers) each receiving every message. */
  groups: number
  /** Armature's gRPC address. */
  url: string
  /** Records per produce call (1: each message acknowledged on its own). */
  batch: number
  /** Armature: Producer options over its defaults (none: what a user gets). */
  producer?: ProducerOptions
  /** Produce calls awaiting their acknowledgement at once. */
  inFlight: number
  /** Messages per second, or 0 for as fast as acknowledgements allow. */
  rate: number
  durationSec: number
  warmupSec: number
}

export interface ProducerClient {
  /** Resolves once the broker acknowledged every value. */
  send(values: Buffer[]): Promise<void>
  close(): Promise<void>
}

export interface ConsumerClient {
  close(): Promise<void>
}

/** `onMessage(value, group)` runs for each delivery before it is acknowledged. */
type OnMessage = (value: Buffer, group: number) => void

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const NATS_URL = process.env.NATS_URL ?? '127.0.0.1:4222'
const groupName = (s: Scenario, g: number) => `${s.name}-g${g}`

export async function openProducer(s: Scenario): Promise<ProducerClient> {
  if (s.system === 'armature') {
    const connection = new PubsubConnection(s.url)
    // The Producer's defaults, as a user gets them: the sends of a turn share batches of at most 16 KiB, 5 in flight.
    const producer = new Producer(connection, { createPartitions: 1, ...s.producer })
    return {
      send: async (values) => void (await producer.send({ topic: s.name, messages: values.map((value) => ({ value })) })),
      close: async () => {
        await producer.close()
        connection.close()
      },
    }
  }
  if (s.system === 'rabbitmq') {
    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createConfirmChannel()
    // One group: the default exchange to the queue; more: a fanout exchange bound to one queue per group.
    const [exchange, key] = s.groups > 1 ? [s.name, ''] : ['', groupName(s, 0)]
    const persistent = s.storage === 'durable'
    const one = (value: Buffer) => new Promise<void>((resolve, reject) => channel.publish(exchange, key, value, { persistent }, (error) => (error ? reject(error) : resolve())))
    return {
      send: async (values) => void (await Promise.all(values.map(one))),
      close: async () => {
        await channel.close()
        await connection.close()
      },
    }
  }
  const nc = await natsConnect({ servers: NATS_URL })
  const js = nc.jetstream()
  return {
    send: async (values) => void (await Promise.all(values.map((value) => js.publish(s.name, value)))),
    close: () => nc.drain(),
  }
}

/** Creates what the run needs (topic, queues, stream and consumers) and starts consuming. */
export async function openConsumer(s: Scenario, onMessage: OnMessage): Promise<ConsumerClient> {
  if (s.system === 'armature') return armatureConsumer(s, onMessage)
  if (s.system === 'rabbitmq') return rabbitConsumer(s, onMessage)
  return jetstreamConsumer(s, onMessage)
}

async function armatureConsumer(s: Scenario, onMessage: OnMessage): Promise<ConsumerClient> {
  const connection = new PubsubConnection(s.url)
  await connection.call('CreateTopic', { name: s.name, partitions: 1, if_not_exists: true })
  const subscriptions = await Promise.all(
    Array.from({ length: s.groups }, async (_, g) => {
      const subscription = await subscribe(
        connection,
        { group: groupName(s, g), topics: [s.name], mode: 'exclusive', sessionTimeoutMs: 30_000, push: { maxAckPending: 1000, ackWaitMs: 30_000, maxDeliveries: 0 } },
        (delivery) => {
          onMessage(delivery.record.value, g)
          subscription.ack(delivery)
        },
      )
      return subscription
    }),
  )
  return {
    close: async () => {
      await Promise.all(subscriptions.map((sub) => sub.close()))
      connection.close()
    },
  }
}

async function rabbitConsumer(s: Scenario, onMessage: OnMessage): Promise<ConsumerClient> {
  const connection = await amqp.connect(AMQP_URL)
  const durable = s.storage === 'durable'
  const setup = await connection.createChannel()
  if (s.groups > 1) await setup.assertExchange(s.name, 'fanout', { durable, autoDelete: false })
  const channels = await Promise.all(
    Array.from({ length: s.groups }, async (_, g) => {
      const queue = groupName(s, g)
      await setup.assertQueue(queue, { durable, autoDelete: false })
      if (s.groups > 1) await setup.bindQueue(queue, s.name, '')
      const channel = await connection.createChannel()
      await channel.prefetch(1000)
      await channel.consume(queue, (message) => {
        if (!message) return
        onMessage(message.content, g)
        channel.ack(message)
      })
      return channel
    }),
  )
  return {
    close: async () => {
      for (const channel of channels) await channel.close()
      for (let g = 0; g < s.groups; g++) await setup.deleteQueue(groupName(s, g))
      if (s.groups > 1) await setup.deleteExchange(s.name)
      await setup.close()
      await connection.close()
    },
  }
}

async function jetstreamConsumer(s: Scenario, onMessage: OnMessage): Promise<ConsumerClient> {
  const nc: NatsConnection = await natsConnect({ servers: NATS_URL })
  const jsm = await nc.jetstreamManager()
  await jsm.streams.add({ name: s.name, subjects: [s.name], storage: s.storage === 'file' ? StorageType.File : StorageType.Memory })
  const js = nc.jetstream()
  const loops = await Promise.all(
    Array.from({ length: s.groups }, async (_, g) => {
      // A durable pull consumer, each message acknowledged; 1000 buffered like RabbitMQ's prefetch.
      await jsm.consumers.add(s.name, { durable_name: groupName(s, g), ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 })
      const consumer = await js.consumers.get(s.name, groupName(s, g))
      const messages = await consumer.consume({ max_messages: 1000 })
      const done = (async () => {
        for await (const m of messages) {
          onMessage(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), g)
          m.ack()
        }
      })()
      return { messages, done }
    }),
  )
  return {
    close: async () => {
      for (const loop of loops) await loop.messages.close()
      await Promise.all(loops.map((l) => l.done.catch(() => {})))
      await jsm.streams.delete(s.name)
      await nc.drain()
    },
  }
}
