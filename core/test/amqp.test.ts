// What only the RabbitMQ backend does, against a real RabbitMQ (AMQP_URL, default the local
// one): its queues and delay queues as the broker shows them, reconnects, its refusals. The
// port's promises run on it in amqp-port.test.ts. Each test uses its own queues and deletes
// them; outages go through a TCP proxy, never the broker.
import { randomUUID } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, type Channel, type ChannelModel } from 'amqplib'
import pino from 'pino'
import { AmqpBroker, type AmqpBrokerOptions } from '../src/servers/amqp/broker.ts'
import { delayQueueName } from '../src/servers/amqp/retry.ts'
import { AmqpError } from '../src/servers/amqp/validation.ts'
import { ATTEMPT_HEADER, ERROR_HEADER, ORIGIN_HEADER, QueueError, type QueueMessage } from '../src/queue.ts'
import { startTcpProxy, waitFor } from '@armature/testing'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const brokerAddress = new URL(AMQP_URL)
const target = { host: brokerAddress.hostname, port: Number(brokerAddress.port || 5672) }

const createdQueues = new Set<string>()
const brokers: AmqpBroker[] = []
let admin: { connection: ChannelModel; channel: Channel } | undefined

function uniqueQueue(): string {
  const queue = `armature-test-${randomUUID().slice(0, 8)}`
  createdQueues.add(queue)
  createdQueues.add(`${queue}.dead`)
  return queue
}

/** A separate plain amqplib connection to look at queues from outside the broker under test. */
async function adminChannel(): Promise<Channel> {
  if (!admin) {
    const connection = await connect(AMQP_URL)
    const channel = await connection.createChannel()
    admin = { connection, channel }
  }
  return admin.channel
}

async function readyCount(queue: string): Promise<number> {
  return (await (await adminChannel()).checkQueue(queue)).messageCount
}

function capturedLog() {
  const lines: { level: number; msg: string }[] = []
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  return { log, messages: () => lines.map((line) => line.msg) }
}

function broker(options: Partial<AmqpBrokerOptions> = {}) {
  const { log, messages } = capturedLog()
  const instance = new AmqpBroker({ url: AMQP_URL, log, reconnect: { minDelayMs: 20, maxDelayMs: 300 }, ...options })
  brokers.push(instance)
  return { broker: instance, messages }
}

/** The message a call fails with, or 'resolved'. */
async function failure(call: () => Promise<unknown>): Promise<string> {
  try {
    await call()
    return 'resolved'
  } catch (error) {
    return (error as Error).message
  }
}

test.after(async () => {
  await Promise.all(brokers.map((b) => b.close()))
  const channel = await adminChannel()
  for (const queue of createdQueues) await channel.deleteQueue(queue).catch(() => {})
  await admin?.connection.close()
})

test("publish resolves after RabbitMQ confirmed it: the message is in the broker's queue; an ack takes it out; no password in the log", async () => {
  const { broker: amqp, messages } = broker()
  await amqp.start()
  assert.ok(amqp.connected)
  const queue = uniqueQueue()
  await amqp.publish(queue, { order: 42 }, { correlationId: 'c-1', headers: { tenant: 'acme' } })
  assert.is(await readyCount(queue), 1, 'the confirmed message is stored in the queue')

  const received: QueueMessage[] = []
  const consumer = await amqp.consume(queue, (message) => void received.push(message))
  await waitFor(() => received.length === 1, { timeoutMs: 5000, what: 'the delivery' })
  const [message] = received
  assert.equal(message!.json(), { order: 42 })
  assert.is(message!.correlationId, 'c-1')
  assert.is(message!.headers.tenant, 'acme')
  assert.is(message!.contentType, 'application/json')
  assert.is(message!.attempt, 1)
  assert.is(message!.redelivered, false)
  assert.ok(message!.messageId, 'a message id is set by default')

  // Closing the consumer's channel would requeue an unacknowledged message: an empty queue afterwards proves the ack.
  await consumer.cancel()
  assert.is(await readyCount(queue), 0)
  assert.is(received.length, 1)
  assert.ok(messages().some((m) => m.startsWith('amqp connected to')))
  assert.not.ok(messages().join('\n').includes('guest:guest'), 'the password never reaches the log')
})

test('retryDelayMs 0: a failed message goes straight back to its queue, then to the dead-letter queue with its error headers', async () => {
  const { broker: amqp } = broker()
  await amqp.start()
  const queue = uniqueQueue()
  const attempts: number[] = []
  const consumer = await amqp.consume(
    queue,
    (message) => {
      attempts.push(message.attempt)
      throw new Error(`payment declined for ${message.text()}`)
    },
    { maxRetries: 2, retryDelayMs: 0 },
  )
  await amqp.publish(queue, 'order-7')
  await waitFor(async () => (await readyCount(`${queue}.dead`)) === 1, { timeoutMs: 5000, what: 'the dead-lettered message' })
  await consumer.cancel()
  assert.equal(attempts, [1, 2, 3], 'one attempt and two retries, no more')
  assert.is(await readyCount(queue), 0, 'nothing left to loop on')

  const dead = await (await adminChannel()).get(`${queue}.dead`, { noAck: true })
  assert.ok(dead)
  assert.is(dead.content.toString(), 'order-7')
  const headers = dead.properties.headers ?? {}
  assert.is(String(headers[ERROR_HEADER]), 'payment declined for order-7')
  assert.is(String(headers[ORIGIN_HEADER]), queue)
  assert.is(Number(headers[ATTEMPT_HEADER]), 3)
})

test('retries wait in a delay queue, twice as long each time, then come back to the queue', async () => {
  const { broker: amqp, messages } = broker({ retryDelayMs: 300 })
  await amqp.start()
  const queue = uniqueQueue()
  for (const ms of [300, 600]) createdQueues.add(delayQueueName(queue, ms))
  const seen: Array<{ attempt: number; at: number }> = []
  const consumer = await amqp.consume(
    queue,
    (message) => {
      seen.push({ attempt: message.attempt, at: Date.now() })
      if (message.attempt < 3) throw new Error('not yet')
    },
    { maxRetries: 3 },
  )
  await amqp.publish(queue, 'retry me')
  await waitFor(() => seen.length === 3, { timeoutMs: 10_000, what: 'the third attempt' })
  await consumer.cancel()
  assert.equal(
    seen.map((s) => s.attempt),
    [1, 2, 3],
    'it succeeded on the third attempt, and was not tried again',
  )
  // The broker's TTL holds each retry back at least this long (a lower bound, not a timing).
  assert.ok(seen[1]!.at - seen[0]!.at >= 290, `first retry after ${seen[1]!.at - seen[0]!.at} ms, expected >= 300`)
  assert.ok(seen[2]!.at - seen[1]!.at >= 590, `second retry after ${seen[2]!.at - seen[1]!.at} ms, expected >= 600`)
  assert.is(await readyCount(delayQueueName(queue, 300)), 0)
  assert.is(await readyCount(delayQueueName(queue, 600)), 0)
  assert.is(await readyCount(`${queue}.dead`), 0, 'nothing was dead-lettered')
  assert.ok(
    messages().some((m) => m.includes('retrying in 300 ms')),
    messages().join('\n'),
  )
  assert.ok(messages().some((m) => m.includes('retrying in 600 ms')))
})

test('retry delays are checked: negative, fractional or over an hour is refused; 0 is allowed', async () => {
  const { broker: amqp } = broker()
  for (const retryDelayMs of [-1, 1.5, 3_600_001]) {
    assert.match(await failure(() => amqp.consume('armature-test-never', () => {}, { retryDelayMs })), /retryDelayMs: expected an integer from 0 to 3600000/)
  }
  assert.throws(() => new AmqpBroker({ url: AMQP_URL, log: pino({ level: 'silent' }), retryDelayMs: -5 }), /retryDelayMs/)
  assert.match(await failure(() => amqp.consume('q'.repeat(250), () => {})), /too long for its retry queues/)
  assert.match(await failure(() => amqp.consume('q'.repeat(250), () => {}, { retryDelayMs: 0 })), /^resolved$/, 'without delays the name is fine')
})

test('cancel() cancels at the broker at once, lets in-flight handlers finish and ack; undelivered messages stay in the queue', async () => {
  const { broker: amqp } = broker()
  await amqp.start()
  const queue = uniqueQueue()
  const published = 30
  for (let i = 0; i < published; i++) await amqp.publish(queue, String(i))

  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const started: string[] = []
  const events: string[] = []
  const consumer = await amqp.consume(
    queue,
    async (message) => {
      started.push(message.text())
      await gate
      events.push(`done ${message.text()}`)
    },
    { prefetch: 5 },
  )
  await waitFor(() => started.length === 5, { timeoutMs: 5000, what: 'five handlers in flight' })
  assert.is(consumer.inFlight, 5)

  const cancelled = consumer.cancel().then(() => events.push('cancelled'))
  const admin = await adminChannel()
  await waitFor(async () => (await admin.checkQueue(queue)).consumerCount === 0, { timeoutMs: 5000, what: 'the broker to drop the consumer' })
  assert.is(consumer.inFlight, 5, 'cancelled at the broker, handlers still running')
  release()
  await cancelled
  assert.is(events.at(-1), 'cancelled', 'cancel() resolves only after every in-flight handler finished')
  assert.is(events.filter((e) => e.startsWith('done')).length, 5)
  assert.is(new Set(started).size, started.length, 'no message handled twice')
  const left = await waitFor(
    async () => {
      const count = await readyCount(queue)
      return count === published - started.length ? count : undefined
    },
    { timeoutMs: 5000, what: 'the unhandled messages back in the queue' },
  )
  assert.is(started.length + left, published, 'acked + still queued == published')
})

test('a network cut while publishing and consuming 200 messages: consumer re-attached, nothing lost', async () => {
  const proxy = await startTcpProxy(target)
  const { broker: amqp, messages } = broker({ url: AMQP_URL.replace(`${brokerAddress.host}`, `127.0.0.1:${proxy.port}`) })
  await amqp.start()
  const queue = uniqueQueue()
  const handled = new Map<string, number>()
  let handledAfterRestore = 0
  let restored = false
  await amqp.consume(
    queue,
    async (message) => {
      await new Promise((resolve) => setImmediate(resolve))
      handled.set(message.text(), (handled.get(message.text()) ?? 0) + 1)
      if (restored) handledAfterRestore++
    },
    { prefetch: 20 },
  )

  const total = 200
  const confirmed = new Set<string>()
  let failedPublishes = 0
  const publishing = (async () => {
    for (let i = 0; i < total; i++) {
      // A publish cut off before its confirm rejects; like any careful publisher, try again.
      for (;;) {
        try {
          await amqp.publish(queue, String(i))
          confirmed.add(String(i))
          break
        } catch (error) {
          assert.instance(error, AmqpError)
          failedPublishes++
        }
      }
    }
  })()

  await waitFor(() => confirmed.size >= 60 && handled.size >= 30, { timeoutMs: 10_000, what: 'traffic before the cut' })
  proxy.cut()
  await waitFor(() => !amqp.connected, { timeoutMs: 5000, what: 'the client to notice the cut' })
  await waitFor(() => messages().some((m) => m.startsWith('amqp connection lost')), { timeoutMs: 2000, what: 'the disconnect log line' })
  restored = true
  proxy.restore()
  await publishing
  await waitFor(() => [...confirmed].every((id) => handled.has(id)), { timeoutMs: 15_000, what: 'every confirmed message handled' })

  assert.is(confirmed.size, total)
  assert.ok(handledAfterRestore > 0, 'the consumer was re-attached after restore')
  assert.ok(amqp.connected)
  assert.ok(proxy.connections >= 1)
  assert.ok(messages().some((m) => m.startsWith('amqp reconnected to')))
  const lines = messages().filter((m) => /connection lost|reconnected/.test(m))
  assert.is(lines.length, 2, `one line per disconnect and one per reconnect, got ${JSON.stringify(lines)}`)
  const duplicates = [...handled.values()].filter((n) => n > 1).length
  if (process.env.AMQP_TEST_STATS) console.log({ duplicates, failedPublishes, handledAfterRestore })
  // At-least-once: only messages unacknowledged at the cut (at most the prefetch) and publishes whose confirm was cut off can repeat.
  assert.ok(duplicates <= 20 + failedPublishes, `${duplicates} duplicates, ${failedPublishes} publishes repeated`)
  await amqp.close()
  await proxy.close()
})

test('an unreachable broker at start: start() resolves, publish waits and succeeds once reachable', async () => {
  const proxy = await startTcpProxy(target)
  proxy.cut()
  const url = AMQP_URL.replace(`${brokerAddress.host}`, `127.0.0.1:${proxy.port}`)
  const { broker: amqp, messages } = broker({ url })
  await amqp.start()
  assert.not.ok(amqp.connected)
  await waitFor(() => messages().some((m) => m.startsWith('amqp cannot connect')), { timeoutMs: 2000, what: 'the connect failure log line' })

  const { broker: impatient } = broker({ url, publishTimeoutMs: 100 })
  await impatient.start()
  try {
    await impatient.publish(uniqueQueue(), 'x')
    assert.unreachable('publish must fail past its timeout')
  } catch (error) {
    assert.instance(error, AmqpError)
    assert.match((error as Error).message, /not connected to amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+ within 100 ms/)
  }
  await impatient.close()

  const queue = uniqueQueue()
  let settled = false
  const publishing = amqp.publish(queue, 'waited').finally(() => (settled = true))
  await waitFor(() => proxy.connections === 0 && messages().length >= 1, { timeoutMs: 1000, what: 'still cut' })
  assert.not.ok(settled, 'publish waits for the connection')
  proxy.restore()
  await publishing
  assert.ok(amqp.connected)
  assert.is(await readyCount(queue), 1)
  await amqp.close()
  await proxy.close()
})

test('close() is idempotent, waits for confirms and leaves no socket or timer behind', async () => {
  const resources = () => {
    const info = process.getActiveResourcesInfo()
    return { sockets: info.filter((r) => r === 'TCPSocketWrap').length, timers: info.filter((r) => r === 'Timeout').length }
  }
  await adminChannel()
  await Promise.all(brokers.map((b) => b.close()))
  // Only the admin connection remains once earlier tests' sockets have finished closing.
  const before = await waitFor(() => (resources().sockets === 1 ? resources() : undefined), { timeoutMs: 5000, what: 'earlier sockets to close' })
  const { broker: amqp } = broker()
  await amqp.start()
  assert.is(resources().sockets, 2, 'one connection')
  const queue = uniqueQueue()
  await amqp.consume(queue, () => {})
  const publishing = amqp.publish(queue, 'last words')
  const first = amqp.close()
  const second = amqp.close()
  assert.is(first, second, 'the same close')
  await Promise.all([first, publishing])
  await amqp.close()
  assert.not.ok(amqp.connected)
  await waitFor(() => resources().sockets === before.sockets && resources().timers === before.timers, {
    timeoutMs: 2000,
    what: `no socket or timer left (before: ${JSON.stringify(before)})`,
  })
  try {
    await amqp.publish(queue, 'too late')
    assert.unreachable('publish after close must fail')
  } catch (error) {
    assert.instance(error, AmqpError)
    assert.match((error as Error).message, /closed/)
  }
})

test('bad input is refused with named errors, never a crash', async () => {
  assert.throws(
    () => new AmqpBroker({ url: 'not a url', log: pino({ level: 'silent' }) }),
    (e: Error) => e instanceof AmqpError && /AMQP_URL/.test(e.message),
  )
  assert.throws(
    () => new AmqpBroker({ url: 'http://localhost', log: pino({ level: 'silent' }) }),
    (e: Error) => e instanceof AmqpError && /amqp: or amqps:/.test(e.message),
  )
  const { broker: amqp } = broker()
  /** AmqpError for what RabbitMQ would refuse; QueueError (its base) for options every backend refuses. */
  const rejects = async (promise: Promise<unknown>, pattern: RegExp, type: typeof QueueError = AmqpError) => {
    try {
      await promise
      assert.unreachable(`expected ${pattern}`)
    } catch (error) {
      assert.instance(error, type)
      assert.match((error as Error).message, pattern)
    }
  }
  await rejects(amqp.publish('q', 'x'), /not started/)
  await amqp.start()
  await rejects(amqp.publish('', 'x'), /non-empty queue name/)
  await rejects(
    amqp.consume('amq.mine', () => {}),
    /reserved/,
  )
  await rejects(amqp.publish(uniqueQueue(), undefined as unknown as string), /cannot publish/)
  await rejects(
    amqp.consume(uniqueQueue(), () => {}, { prefetch: 0 }),
    /prefetch/,
    QueueError,
  )
  await rejects(
    amqp.consume(uniqueQueue(), () => {}, { maxRetries: -1 }),
    /maxRetries/,
    QueueError,
  )
  const queue = uniqueQueue()
  await rejects(
    amqp.consume(queue, () => {}, { deadLetter: queue }),
    /deadLetter/,
    QueueError,
  )
  await rejects(
    amqp.consume(queue, () => {}, { deadLetter: 'amq.dead' }),
    /deadLetter: queue name 'amq.dead' uses the broker's reserved 'amq.' prefix/,
  )

  // A queue that exists with other properties: the broker refuses the declaration (406).
  const transient = uniqueQueue()
  await (await adminChannel()).assertQueue(transient, { durable: false })
  await rejects(
    amqp.consume(transient, () => {}),
    new RegExp(`cannot consume from '${transient}'.*PRECONDITION_FAILED`),
  )
  await rejects(amqp.publish(transient, 'x'), new RegExp(`cannot publish to '${transient}'.*PRECONDITION_FAILED`))
  assert.ok(amqp.connected, 'refusals leave the connection up')
  const fine = uniqueQueue()
  await amqp.publish(fine, 'still works')
  assert.is(await readyCount(fine), 1)
})

test.run()
