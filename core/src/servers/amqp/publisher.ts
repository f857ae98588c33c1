// Publishing with publisher confirms: a send resolves only once RabbitMQ has taken the
// message, waits for a lost connection up to a deadline, and is counted until it settles
// so the broker can wait for every confirm before it closes.
import { randomUUID } from 'node:crypto'
import type { ConfirmChannel, Options } from 'amqplib'
import { errorMessage } from '../../errors.ts'
import type { PublishOptions } from '../../queue.ts'
import type { AmqpConnection } from './connection.ts'
import { publisherChannel } from './session.ts'
import { AmqpError, isServerNamed } from './validation.ts'

export class AmqpPublisher {
  readonly #connection: AmqpConnection
  readonly #timeoutMs: number
  readonly #pending = new Set<Promise<void>>()

  constructor(connection: AmqpConnection, timeoutMs: number) {
    this.#connection = connection
    this.#timeoutMs = timeoutMs
  }

  get pending(): number {
    return this.#pending.size
  }

  /** Sends and waits for the confirm; `declare` says how to declare the queue when it is new (default durable). */
  send(queue: string, content: Buffer, properties: Options.Publish, declare?: Options.AssertQueue): Promise<void> {
    const sent = this.#sendConfirmed(queue, content, properties, Date.now() + this.#timeoutMs, declare)
    this.#pending.add(sent)
    const forget = () => this.#pending.delete(sent)
    sent.then(forget, forget)
    return sent
  }

  /** Resolves once every send begun so far has its confirm or its failure. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#pending])
  }

  async #sendConfirmed(queue: string, content: Buffer, properties: Options.Publish, deadline: number, declare?: Options.AssertQueue): Promise<void> {
    const session = await this.#connection.session(deadline, this.#timeoutMs)
    let channel: ConfirmChannel
    try {
      // A server-named reply queue (amq.gen-...) exists already and cannot be declared by name.
      if (!isServerNamed(queue)) await this.#connection.declare(session, queue, declare)
      channel = await publisherChannel(session)
    } catch (error) {
      throw new AmqpError(`cannot publish to '${queue}': ${errorMessage(error)}`, { cause: error })
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AmqpError(`no publisher confirm for '${queue}' within ${this.#timeoutMs} ms; the message may or may not have been delivered`)),
        Math.max(0, deadline - Date.now()),
      )
      try {
        channel.sendToQueue(queue, content, properties, (error: unknown) => {
          clearTimeout(timer)
          if (!error) return resolve()
          const reason = error instanceof Error ? error.message : 'the broker refused it (nack)'
          reject(new AmqpError(`message to '${queue}' was not confirmed: ${reason}; it may or may not have been delivered`))
        })
      } catch (error) {
        // A closed channel or an oversized header table throws synchronously.
        clearTimeout(timer)
        reject(new AmqpError(`cannot publish to '${queue}': ${errorMessage(error)}`, { cause: error }))
      }
    })
  }
}

/** The AMQP properties of a new message. */
export function publishProperties(contentType: string, options: PublishOptions): Options.Publish {
  return {
    persistent: options.persistent ?? true,
    contentType,
    messageId: options.messageId ?? randomUUID(),
    timestamp: Math.floor(Date.now() / 1000),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
  }
}
