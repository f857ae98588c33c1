// The server span of one gRPC call: wraps the gateway's stable per-method handler, continues
// the caller's trace from the `traceparent` metadata, and ends with the call's status.
import * as grpc from '@grpc/grpc-js'
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api'
import { ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_RPC_SYSTEM_NAME } from '@opentelemetry/semantic-conventions'
import type { MethodType } from '../servers/grpc.ts'
import { remoteParent } from './propagation.ts'
import { ATTR_RPC_GRPC_STATUS_CODE, ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM } from './semconv.ts'

type Handler = grpc.UntypedHandleCall

/** Statuses that mark a server span as failed; the others are the caller's doing (gRPC conventions). */
const SERVER_ERRORS = new Set([grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNIMPLEMENTED, grpc.status.INTERNAL, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS])

/** `handler` with a span per call around it; the handler runs with that span active. */
export function traceGrpcHandler(tracer: Tracer, path: string, type: MethodType, handler: Handler): Handler {
  const method = path.slice(1)
  const attributes = { [ATTR_RPC_SYSTEM_NAME]: 'grpc', [ATTR_RPC_SYSTEM]: 'grpc', [ATTR_RPC_METHOD]: method, [ATTR_RPC_SERVICE]: method.split('/')[0]! }
  const start = (call: { metadata: grpc.Metadata }) => {
    const parent = remoteParent(call.metadata.get('traceparent')[0], call.metadata.get('tracestate')[0])
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent)
    return { span, active: trace.setSpan(parent, span) }
  }
  if (type === 'unary' || type === 'clientStream') {
    const respond = handler as grpc.handleUnaryCall<any, any>
    return ((call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      const { span, active } = start(call)
      const done: grpc.sendUnaryData<any> = (error, value, trailer, flags) => {
        endSpan(span, error ? ((error as grpc.ServiceError).code ?? grpc.status.UNKNOWN) : grpc.status.OK)
        callback(error, value, trailer, flags)
      }
      context.with(active, respond, undefined, call, done)
    }) as Handler
  }
  const stream = handler as grpc.handleServerStreamingCall<any, any>
  return ((call: grpc.ServerWritableStream<any, any>) => {
    const { span, active } = start(call)
    let code = grpc.status.OK
    let ended = false
    const end = (final: grpc.status) => {
      if (ended) return
      ended = true
      endSpan(span, final)
    }
    // A handler ends a stream with an error by emitting it on the call; grpc-js then sends that status and finishes.
    call.on('error', (error: Partial<grpc.StatusObject>) => (code = error.code ?? grpc.status.UNKNOWN))
    call.once('finish', () => end(code))
    call.once('cancelled', () => end(grpc.status.CANCELLED))
    call.once('close', () => end(code))
    context.with(active, stream, undefined, call)
  }) as Handler
}

function endSpan(span: Span, code: grpc.status): void {
  span.setAttribute(ATTR_RPC_STATUS_CODE, grpc.status[code] ?? String(code))
  span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, code)
  if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR })
  span.end()
}
