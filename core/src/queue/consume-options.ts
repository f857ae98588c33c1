// Checks of consume options that hold for every backend, so a bad option reads the same
// on RabbitMQ and on a plugin's backend. Backend-specific rules (queue name syntax) stay
// with the backend.
import { MAX_PREFETCH, MAX_RETRY_DELAY_MS, QueueError, type ConsumeOptions, type MessageHandler, type ResolvedConsumeOptions } from '../queue.ts'

/** The defaults a backend fills in for options the consumer left out. */
export interface ConsumeDefaults {
  prefetch: number
  maxRetries: number
  retryDelayMs: number
}

export function checkQueueName(name: unknown, key = 'queue'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new QueueError(`${key}: expected a non-empty queue name, got ${JSON.stringify(name)}`)
  }
}

/** Checks the queue, the handler and each option given; throws a QueueError naming the first bad one. */
export function checkConsume(queue: unknown, handler: unknown, options: ConsumeOptions = {}): asserts queue is string {
  checkQueueName(queue)
  if (typeof handler !== 'function') throw new QueueError(`consume('${queue}'): the handler must be a function, got ${typeof handler}`)
  if (options === null || typeof options !== 'object') throw new QueueError(`consume('${queue}'): options must be an object, got ${JSON.stringify(options)}`)
  if (options.prefetch !== undefined) checkPrefetch(options.prefetch)
  if (options.maxRetries !== undefined) checkRetries(options.maxRetries)
  if (options.retryDelayMs !== undefined) checkRetryDelay(options.retryDelayMs)
  const deadLetter = options.deadLetter
  if (deadLetter !== undefined && deadLetter !== false) {
    checkQueueName(deadLetter, 'deadLetter')
    if (deadLetter === queue) throw new QueueError(`consume('${queue}'): deadLetter must name another queue`)
  }
}

/** The options a backend consumes with: checked, with its defaults for what was left out. */
export function resolveConsumeOptions(queue: string, handler: MessageHandler, options: ConsumeOptions, defaults: ConsumeDefaults): ResolvedConsumeOptions {
  checkConsume(queue, handler, options)
  return {
    prefetch: checkPrefetch(options.prefetch ?? defaults.prefetch),
    maxRetries: checkRetries(options.maxRetries ?? defaults.maxRetries),
    retryDelayMs: checkRetryDelay(options.retryDelayMs ?? defaults.retryDelayMs),
    deadLetter: options.deadLetter ?? `${queue}.dead`,
  }
}

export function checkPrefetch(value: unknown, key = 'prefetch'): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_PREFETCH) {
    throw new QueueError(`${key}: expected an integer from 1 to ${MAX_PREFETCH}, got ${value}`)
  }
  return value as number
}

export function checkRetries(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0) throw new QueueError(`maxRetries: expected an integer >= 0, got ${value}`)
  return value as number
}

export function checkRetryDelay(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_RETRY_DELAY_MS) {
    throw new QueueError(`retryDelayMs: expected an integer from 0 to ${MAX_RETRY_DELAY_MS}, got ${value}`)
  }
  return value as number
}
