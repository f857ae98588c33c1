// The kernel's queue port: selects the backend (RabbitMQ with AMQP_URL, else the one a plugin
// provides), hands each plugin generation its `ctx.queue`, keeps every consumer so a
// replaced backend can take them over, and stops consumers and backends at shutdown.
import type { Logger } from 'pino'
import type { KernelConfig } from '../config.ts'
import { PluginError, errorMessage } from '../errors.ts'
import { Phase } from '../plugin.ts'
import type { StopEntry } from '../shutdown.ts'
import { AmqpBroker } from '../servers/amqp/broker.ts'
import type { ConsumeOptions, Consumer, MessageHandler, PluginQueue, PublishOptions, QueueBackend } from '../queue.ts'
import { checkConsume, checkQueueName } from './consume-options.ts'
import { KeptConsumer, type QueueOwner } from './kept-consumer.ts'
import { checkBackend, providesQueue } from './provider.ts'
import { messagingSystem, type QueueTracing } from '../tracing/queue.ts'

export type { QueueOwner } from './kept-consumer.ts'

export class QueuePort {
  readonly #log: Logger
  /** RabbitMQ, when AMQP_URL is set: it serves every plugin, and provided backends stay unused. */
  readonly #amqp: AmqpBroker | undefined
  /** The backend serving ctx.queue, and the generation that provided it (none for RabbitMQ). */
  #active: { backend: QueueBackend; owner?: QueueOwner } | undefined
  /** Backends generations handed over, until the port closes them. */
  readonly #provided = new Map<QueueOwner, QueueBackend>()
  readonly #closing = new Map<QueueBackend, Promise<void>>()
  /** Generations whose setup is over: provideBackend is refused from then on. */
  readonly #settled = new WeakSet<QueueOwner>()
  /** Generations that stopped: a consumer they start now would outlive them. */
  readonly #retired = new WeakSet<QueueOwner>()
  readonly #consumers = new Set<KeptConsumer>()
  #handover: Promise<void> = Promise.resolve()
  #closed: Promise<void> | undefined
  /** Set when spans are exported: publishes and handled messages get spans, `traceparent` rides in the headers. */
  readonly #tracing: QueueTracing | undefined

  constructor(options: { log: Logger; amqp?: AmqpBroker; tracing?: QueueTracing | undefined }) {
    this.#log = options.log
    this.#amqp = options.amqp
    this.#tracing = options.tracing
    if (options.amqp) this.#active = { backend: options.amqp }
  }

  static fromConfig(config: Pick<KernelConfig, 'amqpUrl' | 'amqpPrefetch' | 'amqpRetryDelayMs'>, log: Logger, tracing?: QueueTracing): QueuePort {
    const amqp = config.amqpUrl
      ? new AmqpBroker({ url: config.amqpUrl, log: log.child({ component: 'amqp' }), prefetch: config.amqpPrefetch, retryDelayMs: config.amqpRetryDelayMs })
      : undefined
    return new QueuePort({ log: log.child({ component: 'queue' }), ...(amqp ? { amqp } : {}), tracing })
  }

  /** Connects to RabbitMQ when it is configured; an unreachable broker is retried in the background. */
  async start(): Promise<void> {
    await this.#amqp?.start()
  }

  /** `ctx.queue` of one generation. */
  bind(owner: QueueOwner): PluginQueue {
    const port = this
    return {
      get enabled() {
        return port.#active !== undefined
      },
      get backend() {
        return port.#active?.backend.name
      },
      publish: (queue, body, options) => port.#publish(owner, queue, body, options),
      consume: (queue, handler, options) => port.#consume(owner, queue, handler, options),
      provideBackend: (backend) => port.#provide(owner, backend),
    }
  }

  /** At the end of a generation's setup: a plugin that declares `provides: ['queue']` must have provided one. */
  afterSetup(owner: QueueOwner): void {
    this.#settled.add(owner)
    if (providesQueue(owner) && !this.#provided.has(owner)) {
      throw new PluginError(owner.name, "declares provides: ['queue'] but its setup did not call ctx.queue.provideBackend(backend)")
    }
  }

  /** A generation became current: its backend, if it provided one, takes over ctx.queue and every consumer. */
  swappedIn(owner: QueueOwner): void {
    const backend = this.#provided.get(owner)
    if (!backend || this.#amqp || this.#closed) return
    const previous = this.#active
    this.#log.info(
      `queue backend '${backend.name}' of plugin ${owner.name} (generation ${owner.id}) serves ctx.queue${this.#consumers.size ? `; ${this.#consumers.size} consumers move to it` : ''}`,
    )
    this.#switchTo({ backend, owner }, previous?.owner)
  }

  /** A generation stops: its consumers are cancelled, and a backend it provided is closed once nothing uses it. */
  async retire(owner: QueueOwner): Promise<void> {
    this.#retired.add(owner)
    await Promise.all([...this.#consumers].filter((c) => c.owner === owner).map((c) => c.cancel()))
    if (!this.#provided.has(owner)) return
    if (this.#active?.owner === owner) {
      this.#log.warn(
        `queue backend '${this.#active.backend.name}' stopped with plugin ${owner.name}; ${this.#consumers.size} consumers wait for another backend and publishing fails until then`,
      )
      this.#switchTo(undefined, owner)
    }
    await this.#handover
    await this.#closeProvided(owner)
  }

  /** Cancels every consumer: running handlers finish and acknowledge, unstarted deliveries return to their queue. */
  async cancelConsumers(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.cancel()))
  }

  /** After the consumers: waits for any handover, then closes every backend the port holds. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#handover
      if (this.#amqp) await this.#closeQuietly(this.#amqp)
      await Promise.all([...this.#provided.keys()].map((owner) => this.#closeProvided(owner)))
    })()
    return this.#closed
  }

  /** The kernel's stop entries: consumers at Ingress, backends at Egress (ids `<backend>:consumers`, `<backend>:connection`). */
  stopEntries(timeoutMs: number): StopEntry[] {
    if (!this.#active && this.#provided.size === 0 && this.#consumers.size === 0) return []
    const name = this.#active?.backend.name ?? 'queue'
    let cancelling: Promise<unknown> | undefined
    const cancelOnce = () => (cancelling ??= this.cancelConsumers())
    return [
      { id: `${name}:consumers`, phase: Phase.Ingress, timeoutMs, fn: cancelOnce },
      // Closing waits for the consumers, whatever order the user chose for the two entries.
      {
        id: `${name}:connection`,
        phase: Phase.Egress,
        timeoutMs,
        fn: async () => {
          await cancelOnce()
          await this.close()
        },
        force: () => void this.close(),
      },
    ]
  }

  /** For `GET /_armature/plugins`. */
  describe() {
    const active = this.#active
    let details: unknown
    try {
      details = active?.backend.describe() ?? null
    } catch (error) {
      details = { error: errorMessage(error) }
    }
    return {
      backend: active?.backend.name ?? null,
      selectedBy: this.#amqp ? 'AMQP_URL' : active?.owner ? `plugin ${active.owner.name}` : null,
      provider: active?.owner ? { plugin: active.owner.name, generation: active.owner.id } : null,
      consumers: this.#consumers.size,
      details,
    }
  }

  async #publish(owner: QueueOwner, queue: string, body: Buffer | string | object, options?: PublishOptions): Promise<void> {
    checkQueueName(queue)
    const active = this.#active
    if (!active) throw this.#noBackend(owner)
    if (this.#tracing) return this.#tracing.publish(messagingSystem(active.backend.name), queue, options, (traced) => active.backend.publish(queue, body, traced))
    return active.backend.publish(queue, body, options)
  }

  async #consume(owner: QueueOwner, queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    checkConsume(queue, handler, options)
    if (this.#retired.has(owner)) throw new PluginError(owner.name, `consume('${queue}'): generation ${owner.id} has stopped; consume in setup or while the generation runs`)
    const active = this.#active
    if (!active) throw this.#noBackend(owner)
    const consumer = new KeptConsumer(
      { log: this.#log, active: () => this.#active?.backend, forget: (c) => this.#consumers.delete(c) },
      owner,
      queue,
      this.#tracing ? this.#tracing.consumer(() => messagingSystem(this.#active?.backend.name), queue, handler) : handler,
      options,
    )
    this.#consumers.add(consumer)
    try {
      await consumer.attach(active.backend)
    } catch (error) {
      await consumer.cancel()
      throw error
    }
    return consumer
  }

  #provide(owner: QueueOwner, backend: QueueBackend): void {
    if (this.#settled.has(owner)) throw new PluginError(owner.name, 'ctx.queue.provideBackend is only allowed during setup')
    if (!providesQueue(owner)) {
      throw new PluginError(
        owner.name,
        "ctx.queue.provideBackend: declare provides: ['queue'] in definePlugin, so the kernel starts this plugin before the plugins that consume through it",
      )
    }
    checkBackend(owner.name, backend)
    if (this.#provided.has(owner)) throw new PluginError(owner.name, 'ctx.queue.provideBackend was called twice in one setup')
    const other = [...this.#provided.keys()].find((o) => o.name !== owner.name)
    if (other && !this.#amqp) {
      throw new PluginError(
        owner.name,
        `ctx.queue.provideBackend: plugin '${other.name}' already provides the queue backend ('${this.#provided.get(other)!.name}'); only one plugin may`,
      )
    }
    this.#provided.set(owner, backend)
    if (this.#amqp) this.#log.info(`plugin ${owner.name} provides queue backend '${backend.name}'; ctx.queue stays on RabbitMQ because AMQP_URL is set`)
  }

  /** Points the port at `next` at once; consumers follow in the background, then the old backend closes. */
  #switchTo(next: { backend: QueueBackend; owner: QueueOwner } | undefined, previousOwner: QueueOwner | undefined): void {
    this.#active = next
    const consumers = [...this.#consumers]
    const earlier = this.#handover
    this.#handover = (async () => {
      await earlier
      await Promise.all(consumers.map((c) => c.moveTo(next?.backend)))
      if (previousOwner && previousOwner !== next?.owner) await this.#closeProvided(previousOwner)
    })()
  }

  #closeProvided(owner: QueueOwner): Promise<void> {
    const backend = this.#provided.get(owner)
    if (!backend) return Promise.resolve()
    this.#provided.delete(owner)
    return this.#closeQuietly(backend)
  }

  #closeQuietly(backend: QueueBackend): Promise<void> {
    let closing = this.#closing.get(backend)
    if (!closing) {
      closing = Promise.resolve()
        .then(() => backend.close())
        .catch((error) => this.#log.error(`queue backend '${backend.name}' did not close cleanly: ${errorMessage(error)}`))
        // Forgotten once closed, so reloads do not pile up closed backends.
        .finally(() => this.#closing.delete(backend))
      this.#closing.set(backend, closing)
    }
    return closing
  }

  #noBackend(owner: QueueOwner): PluginError {
    return new PluginError(
      owner.name,
      'needs a queue, but no queue backend is configured: set AMQP_URL (for example amqp://guest:guest@127.0.0.1:5672) to use RabbitMQ, or load a plugin that provides a queue backend, such as pubsub',
    )
  }
}
