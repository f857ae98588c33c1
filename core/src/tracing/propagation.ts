// W3C trace context in and out: the parent a caller named in `traceparent`/`tracestate`,
// and the same two headers written for the next hop.
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, type Context } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'

const w3c = new W3CTraceContextPropagator()

/**
 * The remote parent named by a `traceparent` (and `tracestate`) header; the root context when
 * there is none or it is malformed, so the span starts a trace of its own.
 */
export function remoteParent(traceparent: unknown, tracestate: unknown): Context {
  if (traceparent === undefined || traceparent === null) return ROOT_CONTEXT
  return w3c.extract(ROOT_CONTEXT, { traceparent: headerText(traceparent), tracestate: headerText(tracestate) }, defaultTextMapGetter)
}

/** Writes `traceparent` (and `tracestate`) for the span active in `ctx` into a header record. */
export function injectTraceContext(ctx: Context, headers: Record<string, unknown>): void {
  w3c.inject(ctx, headers, defaultTextMapSetter)
}

/** Header values arrive as strings, string arrays (repeated headers), or Buffers (gRPC metadata, AMQP tables). */
function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return headerText(value[0])
  if (Buffer.isBuffer(value)) return value.toString('latin1')
  return undefined
}
