// The server span of one HTTP request that reaches a plugin: started before the plugin's
// handler runs (which sees it as the active span), ended when the response is out.
import type { IncomingMessage } from 'node:http'
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api'
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions'
import type { Hono } from 'hono'
import { routeOf } from '../servers/http-mount.ts'
import { remoteParent } from './propagation.ts'

/** The part of a request in flight that its span needs. */
export interface TracedRequest {
  span: Span | undefined
  app: Hono
  entry: { fetch(request: Request, env?: unknown): Response | Promise<Response> }
  method: string
  path: string
}

/** Methods the HTTP conventions name as they are; any other is reported as `_OTHER`. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY'])

export class HttpTracing {
  constructor(readonly tracer: Tracer) {}

  /** Runs the request's entry (the app, or the interceptors before it) inside a server span continuing the caller's trace. */
  serve(flight: TracedRequest, request: Request, env: { incoming?: IncomingMessage } | undefined): Response | Promise<Response> {
    // The Node request's header object is at hand already; the fetch Request's would be built for this.
    const headers = env?.incoming?.headers
    const parent = headers
      ? remoteParent(headers.traceparent, headers.tracestate)
      : remoteParent(request.headers.get('traceparent') ?? undefined, request.headers.get('tracestate') ?? undefined)
    const known = KNOWN_METHODS.has(flight.method)
    const span = this.tracer.startSpan(
      known ? flight.method : 'HTTP',
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: known ? flight.method : '_OTHER',
          ...(known ? {} : { [ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: flight.method }),
          [ATTR_URL_PATH]: flight.path,
          [ATTR_URL_SCHEME]: request.url.startsWith('https:') ? 'https' : 'http',
        },
      },
      parent,
    )
    flight.span = span
    return context.with(trace.setSpan(parent, span), flight.entry.fetch, flight.entry, request, env)
  }

  /** Names the span after the route that answered and ends it with the status sent. */
  end(flight: TracedRequest, status: number): void {
    const span = flight.span!
    flight.span = undefined
    // A span the sampler left out records nothing: no route lookup for it.
    if (!span.isRecording()) return span.end()
    const route = status === 404 ? undefined : routeOf(flight.app, flight.method, flight.path)
    if (route) {
      span.setAttribute(ATTR_HTTP_ROUTE, route)
      if (KNOWN_METHODS.has(flight.method)) span.updateName(`${flight.method} ${route}`)
    }
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
    // A 4xx is the client's mistake, not the server's: only 5xx marks a server span as failed.
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status))
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end()
  }
}
