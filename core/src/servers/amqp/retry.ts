// Broker-side retry: a failed message waits in a delay queue of its own delay, whose messages
// expire after it and are dead-lettered by RabbitMQ back to the tail of the queue. The wait
// is kept by the broker, so a stop or a crash during it loses nothing.
import type { ConsumeMessage, Options } from 'amqplib'
import type { FailureOutcome } from '../../queue/failure-policy.ts'

/** The queue a retry waits in. Its name carries the delay because a queue's arguments cannot change once declared. */
export function delayQueueName(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}ms`
}

function delayQueue(queue: string, delayMs: number): Options.AssertQueue {
  return { durable: true, arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } }
}

/** Where the copy of a failed message goes, and how that queue is declared when it is new (undefined: durable). */
export function failureRoute(queue: string, outcome: Exclude<FailureOutcome, { action: 'reject' }>): { target: string; declare?: Options.AssertQueue } {
  if (outcome.action === 'dead-letter') return { target: outcome.queue }
  if (outcome.delayMs === 0) return { target: queue }
  return { target: delayQueueName(queue, outcome.delayMs), declare: delayQueue(queue, outcome.delayMs) }
}

/** The original's properties with new headers, so the copy is the same message to its consumer. */
export function republishProperties(delivery: ConsumeMessage, headers: Record<string, unknown>): Options.Publish {
  const p = delivery.properties
  return {
    headers,
    persistent: p.deliveryMode === 2,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
  }
}
