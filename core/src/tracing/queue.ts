// Spans across a queue: a publish is a producer span whose `traceparent` travels in the
// message headers; handling the message is a consumer span, its child, in the consumer's
// process. Retries carry the same headers, so every attempt hangs off the one publish.
import { errorMessage } from '../errors.ts'
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api'
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions'
import type { MessageHandler, PublishOptions, QueueMessage } from '../queue.ts'
import { injectTraceContext, remoteParent } from './propagation.ts'
import { ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_MESSAGE_ID, ATTR_MESSAGING_OPERATION_NAME, ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_SYSTEM } from './semconv.ts'

/** `messaging.system` for a queue backend: the conventions' name for RabbitMQ, a provided backend's own name otherwise. */
export function messagingSystem(backend: string | undefined): string {
  return backend === 'amqp' ? 'rabbitmq' : (backend ?? 'unknown')
}

export class QueueTracing {
  constructor(readonly tracer: Tracer) {}

  /** Publishes inside a producer span (a child of the active one) and puts its context in the headers. */
  async publish(system: string, queue: string, options: PublishOptions | undefined, send: (options: PublishOptions) => Promise<void>): Promise<void> {
    const parent = context.active()
    const span = this.tracer.startSpan(
      `publish ${queue}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: system,
          [ATTR_MESSAGING_DESTINATION_NAME]: queue,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
          [ATTR_MESSAGING_OPERATION_NAME]: 'publish',
          ...(options?.messageId ? { [ATTR_MESSAGING_MESSAGE_ID]: options.messageId } : {}),
        },
      },
      parent,
    )
    const headers: Record<string, unknown> = { ...options?.headers }
    injectTraceContext(trace.setSpan(parent, span), headers)
    try {
      await send({ ...options, headers })
    } catch (error) {
      failed(span, error)
      throw error
    } finally {
      span.end()
    }
  }

  /**
   * `handler` run inside a consumer span continuing the publisher's trace from the message
   * headers. `system` is asked per message: a kept consumer may move to another backend.
   */
  consumer(system: () => string, queue: string, handler: MessageHandler): MessageHandler {
    return async (message: QueueMessage) => {
      const parent = remoteParent(message.headers.traceparent, message.headers.tracestate)
      const span = this.tracer.startSpan(
        `process ${queue}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            [ATTR_MESSAGING_SYSTEM]: system(),
            [ATTR_MESSAGING_DESTINATION_NAME]: queue,
            [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
            [ATTR_MESSAGING_OPERATION_NAME]: 'process',
            ...(message.messageId ? { [ATTR_MESSAGING_MESSAGE_ID]: message.messageId } : {}),
            'armature.queue.attempt': message.attempt,
          },
        },
        parent,
      )
      try {
        return await context.with(trace.setSpan(parent, span), handler, undefined, message)
      } catch (error) {
        failed(span, error)
        throw error
      } finally {
        span.end()
      }
    }
  }
}

function failed(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, error instanceof Error ? error.name : 'Error')
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) })
}
