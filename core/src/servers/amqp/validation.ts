// What RabbitMQ refuses, checked before it is asked: queue names, the URL, and consume
// options whose retry queues would not fit a queue name.
import { redactUrl } from '../../redact.ts'
import { QueueError, type ConsumeOptions, type MessageHandler, type ResolvedConsumeOptions } from '../../queue.ts'
import { resolveConsumeOptions, type ConsumeDefaults } from '../../queue/consume-options.ts'
import { retryDelay } from '../../queue/failure-policy.ts'
import { delayQueueName } from './retry.ts'

/** Anything the AMQP client refuses or the broker reports; the message names the queue or the URL. */
export class AmqpError extends QueueError {}

const MAX_NAME_BYTES = 255

/** Server-named queues (`amq.gen-...`, a request's reply queue) exist already and cannot be declared by name. */
export function isServerNamed(queue: string): boolean {
  return queue.startsWith('amq.')
}

export function checkAmqpQueueName(name: unknown, key: string, { replyQueue = false } = {}): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new AmqpError(`${key}: expected a non-empty queue name, got ${JSON.stringify(name)}`)
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new AmqpError(`${key}: queue name '${name.slice(0, 40)}...' is longer than ${MAX_NAME_BYTES} bytes`)
  // Publishing to a server-named reply queue (a request's replyTo) is fine; declaring or consuming one by name is not.
  if (isServerNamed(name) && !replyQueue) throw new AmqpError(`${key}: queue name '${name}' uses the broker's reserved 'amq.' prefix`)
}

/** Resolves consume options, then checks the names RabbitMQ will see: the queue, its dead letter, its longest retry queue. */
export function resolveAmqpConsumeOptions(queue: string, handler: MessageHandler, options: ConsumeOptions, defaults: ConsumeDefaults): ResolvedConsumeOptions {
  checkAmqpQueueName(queue, 'queue')
  const resolved = resolveConsumeOptions(queue, handler, options, defaults)
  if (resolved.deadLetter !== false) checkAmqpQueueName(resolved.deadLetter, 'deadLetter')
  if (resolved.maxRetries > 0 && resolved.retryDelayMs > 0) {
    const longest = delayQueueName(queue, retryDelay(resolved.retryDelayMs, resolved.maxRetries))
    if (Buffer.byteLength(longest) > MAX_NAME_BYTES) {
      throw new AmqpError(
        `consume('${queue.slice(0, 40)}...'): the queue name is too long for its retry queues ('${longest.slice(-24)}' would pass ${MAX_NAME_BYTES} bytes); shorten it or set retryDelayMs: 0`,
      )
    }
  }
  return resolved
}

/** Checks the AMQP_URL and asks for a heartbeat unless it sets one, so a silent network loss is noticed. */
export function withDefaultHeartbeat(url: string, seconds: number): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new AmqpError(`AMQP_URL: '${redactUrl(url)}' is not a URL; expected amqp://user:pass@host:5672/vhost`)
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new AmqpError(`AMQP_URL: protocol '${parsed.protocol}' is not supported; expected amqp: or amqps:`)
  }
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds))
  return parsed.toString()
}
