// The queue port's promises, as tests any backend can run: publish and confirm, ack,
// prefetch, bounded retry with a doubling delay, dead letter, cancel at stop, and reloads
// that lose nothing. Every check goes through `ctx.queue` of a real plugin generation (the
// `queue-probe` plugin written here), on a kernel the backend's own test file boots.
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite, type Test } from 'uvu'
import * as assert from 'uvu/assert'
import { ATTEMPT_HEADER, ERROR_HEADER, ORIGIN_HEADER, type PluginQueue, type QueueMessage } from '@armature/core'
import { waitFor, type TestKernel } from './kernel.ts'

/** Boots a kernel whose `ctx.queue` runs on the backend under test, with `plugins` loaded too. Kernels it boots share the backend's storage. */
export type MakeBackendKernel = (plugins: string[]) => Promise<TestKernel>

export interface QueuePortSuiteOptions {
  /** What `ctx.queue.backend` reports on this backend (`'amqp'`, `'pubsub'`). */
  backend: string
  /** The plugin that provides the backend, when a plugin does: the suite reloads it under load. */
  provider?: string
  /** After the suite: removes what its queues left in the backend. */
  cleanup?(used: { queues: string[]; retryDelaysMs: number[] }): Promise<void>
}

/** The probe's setup calls this hook (the kernel runs in this process), so each test decides what the probe consumes. */
const PROBE_HOOK = Symbol.for('armature.queue-suite.probe')
const PROBE = 'queue-probe'
const RETRY_DELAY_MS = 200

interface ProbeGeneration {
  queue: PluginQueue
  amqp: PluginQueue
  generation: number
}

/** The uvu suite `queue port on <backend>`; call `.run()` on it. */
export function queuePortSuite(makeBackendKernel: MakeBackendKernel, options: QueuePortSuiteOptions): Test {
  const test = suite(`queue port on ${options.backend}`)
  const probeDir = writeProbePlugin()
  const used: string[] = []
  let onSetup: ((probe: ProbeGeneration) => Promise<void>) | undefined
  let probe: ProbeGeneration | undefined
  ;(globalThis as Record<symbol, unknown>)[PROBE_HOOK] = async (generation: ProbeGeneration) => {
    probe = generation
    await onSetup?.(generation)
  }
  const current = (): ProbeGeneration => {
    if (!probe) throw new Error('the queue-probe plugin did not start')
    return probe
  }
  const uniqueQueue = () => {
    const queue = `armature-suite-${randomUUID().slice(0, 8)}`
    used.push(queue, `${queue}.dead`)
    return queue
  }
  /** Boots a kernel with the probe; `consume` runs in every probe generation's setup. */
  const boot = async (consume?: (probe: ProbeGeneration) => Promise<void>) => {
    onSetup = consume
    probe = undefined
    const k = await makeBackendKernel([probeDir])
    assert.is(k.kernel.slots.get(PROBE)?.status, 'running', k.kernel.slots.get(PROBE)?.lastError)
    return k
  }
  /** Runs `check` with the probe's ctx.queue on a kernel of its own, stopped afterwards. */
  const onKernel = async (check: (queue: PluginQueue) => Promise<void>) => {
    const k = await boot()
    try {
      await check(current().queue)
    } finally {
      await k.stop()
    }
  }

  test.after(async () => {
    delete (globalThis as Record<symbol, unknown>)[PROBE_HOOK]
    await options.cleanup?.({ queues: used, retryDelaysMs: [RETRY_DELAY_MS, RETRY_DELAY_MS * 2] })
  })

  test('publish resolves once the backend holds the message; a later consumer gets its body, properties and headers', () =>
    onKernel(async (queue) => {
      const { amqp } = current()
      assert.ok(queue.enabled)
      assert.is(queue.backend, options.backend)
      assert.is(amqp, queue, 'ctx.amqp is ctx.queue')
      const name = uniqueQueue()
      await queue.publish(name, { order: 42 }, { correlationId: 'c-1', replyTo: 'replies', messageId: 'm-1', headers: { tenant: 'acme' } })
      await queue.publish(name, 'plain text')
      await queue.publish(name, Buffer.from([0, 1, 2]))
      const received: QueueMessage[] = []
      const consumer = await queue.consume(name, (message) => void received.push(message))
      await waitFor(() => received.length === 3, { timeoutMs: 5000, what: 'three deliveries' })
      await consumer.cancel()
      const [json, text, bytes] = received
      assert.equal(json!.json(), { order: 42 })
      assert.is(json!.contentType, 'application/json')
      assert.is(json!.correlationId, 'c-1')
      assert.is(json!.replyTo, 'replies')
      assert.is(json!.messageId, 'm-1')
      assert.is(json!.headers.tenant, 'acme')
      assert.is(json!.attempt, 1)
      assert.is(json!.redelivered, false)
      assert.is(text!.text(), 'plain text')
      assert.match(text!.contentType ?? '', /^text\/plain/)
      assert.ok(text!.messageId && text!.messageId !== 'm-1', 'a message id is set by default')
      assert.equal([...bytes!.body], [0, 1, 2])
      assert.is(bytes!.contentType, 'application/octet-stream')
    }))

  test('a resolved handler acknowledges: the message is not delivered again; prefetch bounds the handlers running at once', () =>
    onKernel(async (queue) => {
      const name = uniqueQueue()
      for (let i = 0; i < 10; i++) await queue.publish(name, String(i))
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      let running = 0
      let most = 0
      const done: string[] = []
      const consumer = await queue.consume(
        name,
        async (message) => {
          most = Math.max(most, ++running)
          await gate
          running--
          done.push(message.text())
        },
        { prefetch: 3 },
      )
      await waitFor(() => consumer.inFlight === 3, { timeoutMs: 5000, what: 'three handlers in flight' })
      release()
      await waitFor(() => done.length === 10, { timeoutMs: 5000, what: 'all ten handled' })
      await consumer.cancel()
      assert.is(most, 3, 'never more than the prefetch at once')
      assert.equal([...done].sort(), Array.from({ length: 10 }, (_, i) => String(i)).sort())

      const later: string[] = []
      const next = await queue.consume(name, (message) => void later.push(message.text()))
      await queue.publish(name, 'marker')
      await waitFor(() => later.includes('marker'), { timeoutMs: 5000, what: 'the marker' })
      await next.cancel()
      assert.equal(later, ['marker'], 'acknowledged messages did not come back')
    }))

  test('a failing handler is retried maxRetries times, each retry waiting twice as long, then dead-lettered with its error', () =>
    onKernel(async (queue) => {
      const name = uniqueQueue()
      const seen: Array<{ body: string; attempt: number; at: number }> = []
      const consumer = await queue.consume(
        name,
        (message) => {
          seen.push({ body: message.text(), attempt: message.attempt, at: Date.now() })
          if (message.text() === 'always fails' || message.attempt === 1) throw new Error(`declined ${message.text()}`)
        },
        { maxRetries: 2, retryDelayMs: RETRY_DELAY_MS },
      )
      const dead: QueueMessage[] = []
      const deadConsumer = await queue.consume(`${name}.dead`, (message) => void dead.push(message))
      await queue.publish(name, 'always fails')
      await queue.publish(name, 'fails once')
      await waitFor(() => dead.length === 1 && seen.length === 5, { timeoutMs: 10_000, what: 'the dead letter and five attempts' })
      await consumer.cancel()
      await deadConsumer.cancel()
      const of = (body: string) => seen.filter((s) => s.body === body)
      assert.equal(
        of('always fails').map((s) => s.attempt),
        [1, 2, 3],
        'one attempt and two retries, no more',
      )
      assert.equal(
        of('fails once').map((s) => s.attempt),
        [1, 2],
        'a retry that succeeds is not tried again',
      )
      // The backend holds each retry back at least this long (a lower bound, not a timing).
      const [first, second, third] = of('always fails')
      assert.ok(second!.at - first!.at >= RETRY_DELAY_MS - 10, `first retry after ${second!.at - first!.at} ms, expected >= ${RETRY_DELAY_MS}`)
      assert.ok(third!.at - second!.at >= 2 * RETRY_DELAY_MS - 10, `second retry after ${third!.at - second!.at} ms, expected >= ${2 * RETRY_DELAY_MS}`)
      const [letter] = dead
      assert.is(letter!.text(), 'always fails')
      assert.is(String(letter!.headers[ERROR_HEADER]), 'declined always fails')
      assert.is(String(letter!.headers[ORIGIN_HEADER]), name)
      assert.is(Number(letter!.headers[ATTEMPT_HEADER]), 3)
    }))

  test('a malformed JSON body is dead-lettered at once; the consumer carries on', () =>
    onKernel(async (queue) => {
      const name = uniqueQueue()
      let attempts = 0
      const handled: unknown[] = []
      const consumer = await queue.consume(
        name,
        (message) => {
          attempts++
          handled.push(message.json())
        },
        { retryDelayMs: 0 },
      )
      const dead: QueueMessage[] = []
      const deadConsumer = await queue.consume(`${name}.dead`, (message) => void dead.push(message))
      await queue.publish(name, Buffer.from('{"broken'))
      await queue.publish(name, { fine: true })
      await waitFor(() => handled.length === 1 && dead.length === 1, { timeoutMs: 5000, what: 'the dead letter and the good message' })
      await consumer.cancel()
      await deadConsumer.cancel()
      assert.is(attempts, 2, 'the malformed message was tried once, the good one once')
      assert.equal(handled, [{ fine: true }])
      assert.match(String(dead[0]!.headers[ERROR_HEADER]), /not valid JSON/)
    }))

  test('stop: running handlers finish and acknowledge before the stop resolves; unstarted messages wait for the next kernel', async () => {
    const name = uniqueQueue()
    const total = 20
    const handled: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const first = await boot()
    const { queue } = current()
    for (let i = 0; i < total; i++) await queue.publish(name, String(i))
    let started = 0
    await queue.consume(
      name,
      async (message) => {
        started++
        await gate
        handled.push(message.text())
      },
      { prefetch: 4 },
    )
    await waitFor(() => started === 4, { timeoutMs: 5000, what: 'four handlers in flight' })
    const stopping = first.stop()
    // Released once the Ingress phase, which cancels the consumers, has begun: then nothing new starts.
    await waitFor(() => readFileSync(first.logFile, 'utf8').includes('shutdown phase 0 Ready done'), { timeoutMs: 5000, what: 'the Ingress phase' })
    release()
    await stopping
    assert.is(handled.length, started, 'every handler the first kernel started finished before its stop resolved')
    assert.ok(handled.length < total, 'the stop cancelled the consumer before the queue ran dry')

    const second = await boot(async ({ queue }) => {
      await queue.consume(name, (message) => void handled.push(message.text()))
    })
    try {
      await waitFor(() => handled.length >= total, { timeoutMs: 5000, what: 'the rest handled by the next kernel' })
      assert.equal([...handled].sort(), Array.from({ length: total }, (_, i) => String(i)).sort(), 'each message handled once')
    } finally {
      await second.stop()
    }
  })

  test('reloading a consuming plugin hands its queue over to the new generation; no message is lost or handled twice', async () => {
    const name = uniqueQueue()
    const handledBy = new Map<string, number[]>()
    const k = await boot(async ({ queue, generation }) => {
      await queue.consume(
        name,
        async (message) => {
          await new Promise((resolve) => setImmediate(resolve))
          handledBy.set(message.text(), [...(handledBy.get(message.text()) ?? []), generation])
        },
        { prefetch: 5 },
      )
    })
    try {
      const { queue } = current()
      const byNew = () => [...handledBy.values()].some(([generation]) => generation === 2)
      // Publishing goes on across the reload until the new generation has handled some (or the cap).
      const publisher = startPublishing(queue, name, byNew)
      await waitFor(() => handledBy.size >= 20, { timeoutMs: 5000, what: 'the first generation to handle some messages' })
      assert.is((await k.kernel.reload(PROBE, { force: true })).status, 'swapped')
      const { total, failed } = await publisher.done
      assert.equal(failed, [], 'no publish failed across the reload')
      await waitFor(() => handledBy.size === total, { timeoutMs: 10_000, what: `all ${total} messages handled` })
      assert.equal(
        [...handledBy].filter(([, generations]) => generations.length > 1),
        [],
        'no message handled twice',
      )
      assert.ok(byNew(), 'the new generation took over')
    } finally {
      await k.stop()
    }
  })

  if (options.provider) {
    const provider = options.provider
    test(`reloading the backend's provider (${provider}) moves every consumer to the new backend; no message is lost`, async () => {
      const name = uniqueQueue()
      const handled = new Map<string, number>()
      /** The first message published once the consumer was seen on the new backend. */
      let firstAfterMove = Infinity
      const k = await boot(async ({ queue }) => {
        await queue.consume(
          name,
          async (message) => {
            await new Promise((resolve) => setImmediate(resolve))
            handled.set(message.text(), (handled.get(message.text()) ?? 0) + 1)
          },
          { prefetch: 5 },
        )
      })
      try {
        const { queue } = current()
        const handledAfterMove = () => [...handled.keys()].some((text) => Number(text) >= firstAfterMove)
        const publisher = startPublishing(queue, name, handledAfterMove)
        await waitFor(() => handled.size >= 30, { timeoutMs: 5000, what: 'messages handled on the first backend' })
        const before = k.kernel.describe().queue.provider
        assert.is((await k.kernel.reload(provider, { force: true })).status, 'swapped')
        const after = await waitFor(
          () => {
            const described = k.kernel.describe().queue
            return described.provider?.generation === (before?.generation ?? 0) + 1 && (described.details as { consumers?: number } | null)?.consumers === 1 ? described : undefined
          },
          { timeoutMs: 5000, what: 'the consumer attached to the new generation of the backend' },
        )
        firstAfterMove = publisher.sent()
        const { total, failed } = await publisher.done
        assert.equal(failed, [], 'no publish failed across the swap')
        await waitFor(() => handled.size === total, { timeoutMs: 10_000, what: `all ${total} messages handled` })
        assert.ok(handledAfterMove(), 'messages published after the move were handled through the new backend')
        assert.is(after.consumers, 1, 'the port still keeps one consumer')
        // At-least-once: only what the old backend had delivered and not acknowledged may come twice.
        const twice = [...handled.values()].filter((n) => n > 1).length
        assert.ok(twice <= 5, `${twice} messages handled twice, more than the prefetch`)
      } finally {
        await k.stop()
      }
    })
  }
  return test
}

/** Publishes "0", "1", ... one after another until `enough()` holds (or 5000 were sent); failed publishes are counted, not retried. */
function startPublishing(queue: PluginQueue, name: string, enough: () => boolean): { sent(): number; done: Promise<{ total: number; failed: string[] }> } {
  const failed: string[] = []
  let total = 0
  const done = (async () => {
    while (!enough() && total < 5000) {
      await queue.publish(name, String(total)).catch((error: Error) => failed.push(error.message))
      total++
      // A turn of the event loop, so deliveries and the reload make progress between publishes.
      await new Promise((resolve) => setImmediate(resolve))
    }
    return { total, failed }
  })()
  return { sent: () => total, done }
}

function writeProbePlugin(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'armature-queue-suite-')), PROBE)
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'index.ts'),
    `import { definePlugin } from '@armature/core'
export default definePlugin({
  name: '${PROBE}',
  async setup(ctx) {
    const hook = (globalThis as Record<symbol, unknown>)[Symbol.for('armature.queue-suite.probe')] as ((probe: object) => Promise<void>) | undefined
    await hook?.({ queue: ctx.queue, amqp: ctx.amqp, generation: ctx.generation })
  },
})
`,
  )
  return dir
}
