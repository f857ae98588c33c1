// The queue port itself: backend selection, providers, boot order, and the port suite run on
// a small in-process backend. That backend is a test fixture proving the port is pluggable,
// not a product backend (the pubsub plugin's broker is); it is loaded by a fixture plugin.
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  QueueError,
  afterFailure,
  definePlugin,
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
import { queuePortSuite, startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

// ---- the in-process test fixture backend ----

interface StoredMessage {
  body: Buffer
  headers: Record<string, unknown>
  contentType: string
  correlationId?: string | undefined
  replyTo?: string | undefined
  messageId: string
  redelivered: boolean
}

/** The fixture's queues. They live in this process, outside any backend, so a reloaded provider finds them. */
class FixtureQueues {
  readonly #ready = new Map<string, StoredMessage[]>()
  readonly #watchers = new Map<string, Set<() => void>>()

  push(queue: string, message: StoredMessage, { front = false } = {}): void {
    const list = this.#ready.get(queue) ?? []
    if (front) list.unshift(message)
    else list.push(message)
    this.#ready.set(queue, list)
    for (const wake of this.#watchers.get(queue) ?? []) wake()
  }

  /** Puts a retry back on the tail after its delay; the timer belongs to the queues, so a backend swap cannot lose it. */
  pushLater(queue: string, message: StoredMessage, delayMs: number): void {
    if (delayMs === 0) return this.push(queue, message)
    setTimeout(() => this.push(queue, message), delayMs).unref()
  }

  take(queue: string): StoredMessage | undefined {
    return this.#ready.get(queue)?.shift()
  }

  watch(queue: string, wake: () => void): () => void {
    const set = this.#watchers.get(queue) ?? new Set()
    set.add(wake)
    this.#watchers.set(queue, set)
    return () => set.delete(wake)
  }
}

/** One consumer: runs up to `prefetch` handlers, routes failures by the port's failure policy. */
class FixtureConsumer implements Consumer {
  readonly #running = new Map<Promise<void>, StoredMessage>()
  readonly #unwatch: () => void
  #stopping = false
  #abandoned = false
  #cancelled: Promise<void> | undefined

  constructor(
    readonly queue: string,
    readonly queues: FixtureQueues,
    readonly handler: MessageHandler,
    readonly options: ResolvedConsumeOptions,
    readonly forget: (consumer: FixtureConsumer) => void,
  ) {
    this.#unwatch = queues.watch(queue, () => this.#pump())
    queueMicrotask(() => this.#pump())
  }

  get inFlight(): number {
    return this.#running.size
  }

  cancel(): Promise<void> {
    this.#cancelled ??= (async () => {
      this.#stopping = true
      this.#unwatch()
      while (this.#running.size) await Promise.allSettled([...this.#running.keys()])
      this.forget(this)
    })()
    return this.#cancelled
  }

  /** The backend closed under a consumer that was not cancelled: what it had not acknowledged goes back, marked redelivered. */
  abandon(): void {
    this.#stopping = this.#abandoned = true
    this.#unwatch()
    for (const message of this.#running.values()) this.queues.push(this.queue, { ...message, redelivered: true }, { front: true })
  }

  #pump(): void {
    while (!this.#stopping && this.#running.size < this.options.prefetch) {
      const message = this.queues.take(this.queue)
      if (!message) return
      const running: Promise<void> = this.#handle(message).finally(() => {
        this.#running.delete(running)
        this.#pump()
      })
      this.#running.set(running, message)
    }
  }

  async #handle(message: StoredMessage): Promise<void> {
    const delivered = queueMessage({ queue: this.queue, ...message })
    try {
      await this.handler(delivered)
    } catch (error) {
      if (this.#abandoned) return
      const outcome = afterFailure(delivered, error, this.options)
      if (outcome.action === 'retry') this.queues.pushLater(this.queue, { ...message, headers: outcome.headers, redelivered: false }, outcome.delayMs)
      else if (outcome.action === 'dead-letter') this.queues.push(outcome.queue, { ...message, headers: outcome.headers, redelivered: false })
    }
  }
}

/** The in-process test fixture backend: one per provider generation, all over the same FixtureQueues. */
class InProcessQueueFixture implements QueueBackend {
  readonly name = 'test-fixture'
  readonly #consumers = new Set<FixtureConsumer>()
  #closed = false

  constructor(
    readonly queues: FixtureQueues,
    readonly generation: number,
  ) {}

  async publish(queue: string, body: Buffer | string | object, options: PublishOptions = {}): Promise<void> {
    if (this.#closed) throw new QueueError(`test-fixture generation ${this.generation} is closed`)
    const { content, contentType } = encodeBody(body)
    this.queues.push(queue, {
      body: content,
      contentType,
      headers: { ...options.headers },
      correlationId: options.correlationId,
      replyTo: options.replyTo,
      messageId: options.messageId ?? randomUUID(),
      redelivered: false,
    })
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    if (this.#closed) throw new QueueError(`test-fixture generation ${this.generation} is closed`)
    const resolved = resolveConsumeOptions(queue, handler, options, { prefetch: 10, maxRetries: 3, retryDelayMs: 1000 })
    const consumer = new FixtureConsumer(queue, this.queues, handler, resolved, (c) => this.#consumers.delete(c))
    this.#consumers.add(consumer)
    return consumer
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const consumer of this.#consumers) consumer.abandon()
    this.#consumers.clear()
  }

  describe(): QueueBackendDescription {
    return { name: this.name, connected: !this.#closed, consumers: this.#consumers.size, generation: this.generation }
  }
}

// ---- the fixture plugin that provides it ----

const FIXTURE_HOOK = Symbol.for('armature.test.queue-fixture')
const fixtureQueues = new FixtureQueues()
;(globalThis as Record<symbol, unknown>)[FIXTURE_HOOK] = (generation: number) => new InProcessQueueFixture(fixtureQueues, generation)

const FIXTURE_PLUGIN = `import { definePlugin } from '@armature/core'
export default definePlugin({
  name: 'queue-fixture',
  provides: ['queue'],
  setup(ctx) {
    const make = (globalThis as Record<symbol, unknown>)[Symbol.for('armature.test.queue-fixture')] as (generation: number) => never
    ctx.queue.provideBackend(make(ctx.generation))
  },
})
`
const folder = pluginsFolder()
const fixtureDir = writePlugin(folder, 'queue-fixture', FIXTURE_PLUGIN)

queuePortSuite((plugins) => startTestKernel({ plugins: [fixtureDir, ...plugins] }), { backend: 'test-fixture', provider: 'queue-fixture' }).run()

// ---- selection, providers and boot order ----

const port = suite('queue port: selection and providers')
const kernels: TestKernel[] = []
const boot = async (plugins: string[], env: Record<string, string> = {}) => {
  const k = await startTestKernel({ plugins, env })
  kernels.push(k)
  return k
}
const slot = (k: TestKernel, name: string) => k.kernel.slots.get(name)
port.after.each(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()))
})

port('without AMQP_URL and without a provider: ctx.queue is off, and using it fails naming both ways to get one', async () => {
  const dir = pluginsFolder()
  const checks = writePlugin(
    dir,
    'checks',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'checks', setup(ctx) {
  if (ctx.queue.enabled || ctx.queue.backend !== undefined) throw new Error('expected no queue backend')
} })`,
  )
  const needs = writePlugin(
    dir,
    'needs-queue',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'needs-queue', async setup(ctx) { await ctx.queue.consume('orders', () => {}) } })`,
  )
  const k = await boot([checks, needs])
  assert.is(slot(k, 'checks')?.status, 'running', slot(k, 'checks')?.lastError)
  assert.is(slot(k, 'needs-queue')?.status, 'failed')
  const error = slot(k, 'needs-queue')?.lastError ?? ''
  assert.match(error, /^plugin 'needs-queue': needs a queue/)
  assert.match(error, /set AMQP_URL \(for example amqp:\/\/guest:guest@127\.0\.0\.1:5672\)/)
  assert.match(error, /or load a plugin that provides a queue backend, such as pubsub/)
  assert.is(k.kernel.describe().queue.backend, null)
})

port('a provider starts before the plugins that consume, whatever their names; /_armature/plugins shows the backend', async () => {
  const dir = pluginsFolder()
  const queue = `armature-order-${randomUUID().slice(0, 8)}`
  // 'aaa-orders' sorts before 'queue-fixture', and declares no `uses`.
  const orders = writePlugin(
    dir,
    'aaa-orders',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'aaa-orders', async setup(ctx) { await ctx.queue.consume('${queue}', () => {}) } })`,
  )
  const k = await boot([orders, fixtureDir])
  assert.is(slot(k, 'aaa-orders')?.status, 'running', slot(k, 'aaa-orders')?.lastError)
  const described = await (await fetch(`${k.url}/_armature/plugins`)).json()
  assert.equal(described.queue, {
    backend: 'test-fixture',
    selectedBy: 'plugin queue-fixture',
    provider: { plugin: 'queue-fixture', generation: 1 },
    consumers: 1,
    details: { name: 'test-fixture', connected: true, consumers: 1, generation: 1 },
  })
})

port('providing is checked: a declaration without a backend, a backend without the declaration, a bad backend and a second provider', async () => {
  const dir = pluginsFolder()
  const plugin = (name: string, provides: boolean, body: string) =>
    writePlugin(
      dir,
      name,
      `import { definePlugin } from '@armature/core'
export default definePlugin({ name: '${name}', ${provides ? "provides: ['queue'], " : ''}setup(ctx) { ${body} } })`,
    )
  const silent = plugin('declares-only', true, '')
  const undeclared = plugin('undeclared', false, `ctx.queue.provideBackend({ name: 'x', publish() {}, consume() {}, close() {}, describe() {} } as never)`)
  const broken = plugin('broken-backend', true, `ctx.queue.provideBackend({ name: 'Bad Name' } as never)`)
  const second = plugin('second-provider', true, `ctx.queue.provideBackend({ name: 'other', publish() {}, consume() {}, close() {}, describe() {} } as never)`)
  const k = await boot([fixtureDir, silent, undeclared, broken, second])
  assert.is(slot(k, 'queue-fixture')?.status, 'running')
  assert.match(slot(k, 'declares-only')?.lastError ?? '', /declares provides: \['queue'\] but its setup did not call ctx\.queue\.provideBackend\(backend\)/)
  assert.match(slot(k, 'undeclared')?.lastError ?? '', /declare provides: \['queue'\] in definePlugin/)
  assert.match(slot(k, 'broken-backend')?.lastError ?? '', /the backend's name "Bad Name" must match \[a-z0-9-\]\+/)
  assert.match(slot(k, 'second-provider')?.lastError ?? '', /plugin 'queue-fixture' already provides the queue backend \('test-fixture'\); only one plugin may/)
  assert.is(k.kernel.describe().queue.provider?.plugin, 'queue-fixture')
  assert.throws(() => definePlugin({ name: 'x', provides: ['db' as 'queue'], setup() {} }), /provides \["db"\] is not valid; expected an array of 'queue'/)
})

port('the provider unloaded: consumers are kept and publishing fails clearly; a provider loaded again takes the consumers back', async () => {
  const dir = pluginsFolder()
  writePlugin(dir, 'queue-fixture', FIXTURE_PLUGIN)
  const queue = `armature-unload-${randomUUID().slice(0, 8)}`
  const handled: string[] = []
  ;(globalThis as Record<symbol, unknown>)[Symbol.for('armature.test.queue-port.handled')] = (text: string) => handled.push(text)
  writePlugin(
    dir,
    'worker',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'worker', async setup(ctx) {
  const record = (globalThis as Record<symbol, unknown>)[Symbol.for('armature.test.queue-port.handled')] as (text: string) => void
  await ctx.queue.consume('${queue}', (message) => record(message.text()))
  ctx.provide(ctx.queue)
} })`,
  )
  const k = await startTestKernel({ pluginsDir: dir })
  kernels.push(k)
  const worker = slot(k, 'worker')!.current!.api as { publish(queue: string, body: string): Promise<void>; backend: string | undefined }
  await worker.publish(queue, 'before')
  await waitFor(() => handled.includes('before'), { timeoutMs: 5000, what: 'the first message' })

  rmSync(join(dir, 'queue-fixture'), { recursive: true })
  assert.is((await k.kernel.reload('queue-fixture')).status, 'unloaded')
  await waitFor(() => worker.backend === undefined, { timeoutMs: 5000, what: 'the backend to stop with its plugin' })
  assert.is(k.kernel.describe().queue.consumers, 1, 'the consumer is kept')
  try {
    await worker.publish(queue, 'nowhere')
    assert.unreachable('publish without a backend must fail')
  } catch (error) {
    assert.match((error as Error).message, /no queue backend is configured/)
  }

  writePlugin(dir, 'queue-fixture', FIXTURE_PLUGIN)
  assert.is((await k.kernel.reload('queue-fixture')).status, 'swapped')
  assert.is(worker.backend, 'test-fixture')
  await worker.publish(queue, 'after')
  await waitFor(() => handled.includes('after'), { timeoutMs: 5000, what: 'a message through the new provider' })
  assert.equal(handled, ['before', 'after'])
})

port('with AMQP_URL set, RabbitMQ serves ctx.queue and a provided backend stays unused', async () => {
  const dir = pluginsFolder()
  const probe = writePlugin(
    dir,
    'probe',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'probe', setup(ctx) { if (ctx.queue.backend !== 'amqp') throw new Error('backend ' + ctx.queue.backend) } })`,
  )
  const k = await boot([fixtureDir, probe], { AMQP_URL })
  assert.is(slot(k, 'probe')?.status, 'running', slot(k, 'probe')?.lastError)
  assert.is(slot(k, 'queue-fixture')?.status, 'running')
  const { queue } = k.kernel.describe()
  assert.is(queue.backend, 'amqp')
  assert.is(queue.selectedBy, 'AMQP_URL')
  assert.is(queue.provider, null)
})

port('options are checked by the port before any backend sees them', async () => {
  const dir = pluginsFolder()
  const probe = writePlugin(
    dir,
    'probe',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'probe', setup(ctx) { ctx.provide(ctx.queue) } })`,
  )
  const k = await boot([fixtureDir, probe])
  const queue = slot(k, 'probe')!.current!.api as { consume(q: unknown, h: unknown, o?: unknown): Promise<unknown>; publish(q: unknown, b: unknown): Promise<void> }
  const refusal = async (call: () => Promise<unknown>) => {
    try {
      await call()
      return 'resolved'
    } catch (error) {
      assert.instance(error, QueueError)
      return (error as Error).message
    }
  }
  assert.match(await refusal(() => queue.consume('', () => {})), /queue: expected a non-empty queue name, got ""/)
  assert.match(await refusal(() => queue.consume('q', 'not a function')), /the handler must be a function, got string/)
  assert.match(await refusal(() => queue.consume('q', () => {}, { prefetch: 0 })), /prefetch: expected an integer from 1 to 65535, got 0/)
  assert.match(await refusal(() => queue.consume('q', () => {}, { maxRetries: -1 })), /maxRetries: expected an integer >= 0, got -1/)
  assert.match(await refusal(() => queue.consume('q', () => {}, { retryDelayMs: 1.5 })), /retryDelayMs: expected an integer from 0 to 3600000, got 1.5/)
  assert.match(await refusal(() => queue.consume('q', () => {}, { deadLetter: 'q' })), /deadLetter must name another queue/)
  assert.match(await refusal(() => queue.publish(42, 'x')), /queue: expected a non-empty queue name, got 42/)
  assert.is(k.kernel.describe().queue.consumers, 0, 'no consumer kept from a refused consume')

  // A generation that stopped cannot start a consumer that would outlive it.
  assert.is((await k.kernel.reload('probe', { force: true })).status, 'swapped')
  const late = await waitFor(
    async () => {
      const message = await queue
        .consume('q', () => {})
        .then(
          () => 'resolved',
          (error: Error) => error.message,
        )
      return /generation 1 has stopped/.test(message) ? message : undefined
    },
    { timeoutMs: 5000, what: 'the retired generation to refuse consume' },
  )
  assert.match(late, /^plugin 'probe': consume\('q'\): generation 1 has stopped/)
  assert.is(k.kernel.describe().queue.consumers, 0)
})

port.run()
