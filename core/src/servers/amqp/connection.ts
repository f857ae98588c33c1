// One AMQP connection that reconnects with backoff. A lost connection is replaced wholesale
// by a new session; every queue declared so far is declared again on it before the broker
// re-attaches its consumers.
import { connect, type Options } from 'amqplib'
import type { Logger } from 'pino'
import { errorMessage } from '../../errors.ts'
import { newSession, topologyChannel, type Session } from './session.ts'
import { redactUrl } from '../../redact.ts'
import { AmqpError, withDefaultHeartbeat } from './validation.ts'

export interface AmqpConnectionOptions {
  url: string
  log: Logger
  heartbeatSeconds: number
  connectionName: string
  reconnect: { minDelayMs: number; maxDelayMs: number }
  /** After each (re)connect, once the queues are declared again: re-attach consumers. */
  onConnected(session: Session): Promise<void>
}

/** How a queue is declared unless told otherwise: durable, so messages outlive a broker restart. */
const DURABLE: Options.AssertQueue = { durable: true }

export class AmqpConnection {
  readonly safeUrl: string
  readonly #url: string
  readonly #log: Logger
  readonly #connectionName: string
  readonly #minDelayMs: number
  readonly #maxDelayMs: number
  readonly #onConnected: (session: Session) => Promise<void>

  #started = false
  #closing = false
  #everConnected = false
  #session: Session | undefined
  #reconnecting: Promise<void> | undefined
  #firstAttempt: Promise<void> | undefined
  #settleFirstAttempt: () => void = () => {}
  #wakeSleep: (() => void) | undefined
  /** Every queue declared, and how, asserted again on each new connection. */
  readonly #queues = new Map<string, Options.AssertQueue>()
  readonly #waiters = new Set<() => void>()

  constructor(options: AmqpConnectionOptions) {
    this.#url = withDefaultHeartbeat(options.url, options.heartbeatSeconds)
    this.safeUrl = redactUrl(options.url)
    this.#log = options.log
    this.#connectionName = options.connectionName
    this.#minDelayMs = Math.max(1, options.reconnect.minDelayMs)
    this.#maxDelayMs = Math.max(this.#minDelayMs, options.reconnect.maxDelayMs)
    this.#onConnected = options.onConnected
  }

  get started(): boolean {
    return this.#started
  }

  get closing(): boolean {
    return this.#closing
  }

  /** Resolves after the first attempt, connected or not; an unreachable broker is retried in the background. */
  start(): Promise<void> {
    if (!this.#started) {
      this.#started = true
      this.#firstAttempt = new Promise<void>((resolve) => (this.#settleFirstAttempt = resolve))
      this.#reconnect()
    }
    return this.#firstAttempt!
  }

  live(): Session | undefined {
    const session = this.#session
    return session && !session.closed && !this.#closing ? session : undefined
  }

  /** The live session, waiting for a reconnect until the deadline. */
  async session(deadline: number, timeoutMs: number): Promise<Session> {
    for (;;) {
      if (this.#closing) throw new AmqpError('the AMQP client is closed')
      if (!this.#started) throw new AmqpError('the AMQP client is not started; call start() first')
      const session = this.live()
      if (session) return session
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new AmqpError(`not connected to ${this.safeUrl} within ${timeoutMs} ms; still reconnecting in the background`)
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.#waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, remaining)
        this.#waiters.add(wake)
      })
    }
  }

  /** Declares a queue once per connection (durable unless `options` says otherwise) and remembers it for reconnects. */
  declare(session: Session, queue: string, options: Options.AssertQueue = DURABLE): Promise<void> {
    let declared = session.declared.get(queue)
    if (!declared) {
      declared = topologyChannel(session)
        .then((channel) => channel.assertQueue(queue, options))
        .then(() => {
          this.#queues.set(queue, options)
        })
      session.declared.set(queue, declared)
      declared.catch(() => session.declared.delete(queue))
    }
    return declared
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so clients do not reconnect in lockstep. */
  backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * 2 ** Math.min(attempt - 1, 30))
    return ceiling / 2 + (Math.random() * ceiling) / 2
  }

  /** Stops reconnecting and fails waiting publishes, runs `drain` (pending confirms), then closes the connection. */
  async close(drain: () => Promise<void>): Promise<void> {
    this.#closing = true
    this.#wakeSleep?.()
    for (const wake of [...this.#waiters]) wake()
    await drain()
    await this.#reconnecting?.catch(() => {})
    const session = this.#session
    this.#session = undefined
    if (session && !session.closed) {
      session.closed = true
      await session.connection.close().catch(() => {})
    }
    this.#settleFirstAttempt()
    if (this.#started) this.#log.info('amqp connection closed')
  }

  #reconnect(): void {
    if (this.#reconnecting || this.#closing) return
    this.#reconnecting = this.#connectUntilConnected().finally(() => (this.#reconnecting = undefined))
  }

  async #connectUntilConnected(): Promise<void> {
    const lostAt = Date.now()
    for (let attempt = 1; !this.#closing; attempt++) {
      let session: Session
      try {
        session = await this.#open()
      } catch (error) {
        this.#settleFirstAttempt()
        const delayMs = Math.round(this.backoff(attempt))
        // One line per outage; each further attempt only at debug, so a long outage does not flood the log.
        if (attempt === 1) this.#log.warn(`amqp cannot connect to ${this.safeUrl}: ${errorMessage(error)}; retrying in the background`)
        else this.#log.debug({ attempt, delayMs }, `amqp connect attempt failed: ${errorMessage(error)}`)
        await this.#sleep(delayMs)
        continue
      }
      if (this.#closing) {
        session.closed = true
        await session.connection.close().catch(() => {})
        return
      }
      this.#session = session
      await this.#restore(session)
      if (session.closed) {
        await this.#sleep(this.backoff(attempt))
        continue
      }
      if (this.#everConnected) this.#log.info(`amqp reconnected to ${this.safeUrl} after ${Date.now() - lostAt} ms`)
      else this.#log.info(`amqp connected to ${this.safeUrl}`)
      this.#everConnected = true
      this.#settleFirstAttempt()
      for (const wake of [...this.#waiters]) wake()
      return
    }
  }

  async #open(): Promise<Session> {
    const connection = await connect(this.#url, {
      timeout: 10_000,
      noDelay: true,
      clientProperties: { connection_name: this.#connectionName },
    })
    const session = newSession(connection)
    // 'close' carries the reason; without an 'error' listener the emitter would throw it.
    connection.on('error', () => {})
    connection.on('close', (error?: Error) => this.#onClosed(session, error))
    connection.on('blocked', (reason: string) => this.#log.warn(`amqp broker blocked publishing: ${reason}`))
    connection.on('unblocked', () => this.#log.info('amqp broker unblocked publishing'))
    return session
  }

  #onClosed(session: Session, error: Error | undefined): void {
    session.closed = true
    if (this.#closing || this.#session !== session) return
    this.#session = undefined
    this.#log.warn(`amqp connection lost (${error ? errorMessage(error) : 'closed by the broker'}); reconnecting`)
    this.#reconnect()
  }

  /** After a (re)connect: assert every queue declared so far, then let the consumers re-attach. */
  async #restore(session: Session): Promise<void> {
    for (const [queue, declare] of this.#queues) {
      try {
        await this.declare(session, queue, declare)
      } catch (error) {
        if (session.closed) return
        this.#log.error(`amqp cannot re-declare queue '${queue}': ${errorMessage(error)}`)
      }
    }
    await this.#onConnected(session)
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        if (self.#wakeSleep === done) self.#wakeSleep = undefined
        resolve()
      }
      this.#wakeSleep = done
    })
  }
}
