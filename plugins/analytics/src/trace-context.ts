// W3C traceparent text to and from OpenTelemetry span contexts: a raw row keeps its ingest
// span's traceparent, so its processing span continues the same trace in whichever process.
import { isSpanContextValid, trace, type Context, type SpanContext, ROOT_CONTEXT } from '@opentelemetry/api'

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The span context a `traceparent` names, or undefined when it is missing or malformed. */
export function spanContextOf(traceparent: string | null | undefined): SpanContext | undefined {
  if (!traceparent) return undefined
  const match = TRACEPARENT.exec(traceparent.trim())
  if (!match) return undefined
  const spanContext: SpanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16) & 1, isRemote: true }
  return isSpanContextValid(spanContext) ? spanContext : undefined
}

export function traceparentOf(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 1).toString(16).padStart(2, '0')}`
}

/** A context whose parent is the span `traceparent` names (the root context when there is none). */
export function parentContextOf(traceparent: string | null | undefined): Context {
  const spanContext = spanContextOf(traceparent)
  return spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT
}

/**
 * The traceparent to keep with a row: the active span's (the kernel's request span, when tracing
 * is on), else the caller's own header when it is well-formed, so the trace goes on downstream.
 */
export function currentTraceparent(callerHeader: string | undefined): string | null {
  const active = trace.getActiveSpan()?.spanContext()
  if (active && isSpanContextValid(active)) return traceparentOf(active)
  const caller = spanContextOf(callerHeader)
  return caller ? traceparentOf(caller) : null
}
