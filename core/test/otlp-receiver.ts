// A small OTLP/HTTP trace receiver on loopback for the tracing tests: accepts
// POST /v1/traces as protobuf or JSON and keeps every span it was sent.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import protobuf from 'protobufjs'

// The part of opentelemetry/proto/collector/trace/v1 and trace/v1 the tests read, with the
// field numbers of the OTLP specification (proto3 skips the fields left out).
const SCHEMA = `syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`
const ExportRequest = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('ExportTraceServiceRequest')

/** SpanKind as OTLP numbers it. */
export const Kind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const
/** Status codes as OTLP numbers them. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const

export interface ReceivedSpan {
  service: string
  scope: string
  traceId: string
  spanId: string
  /** '' for a root span. */
  parentSpanId: string
  name: string
  kind: number
  status: number
  attributes: Record<string, string | number | boolean>
}

export interface OtlpReceiver {
  /** The base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string
  spans: ReceivedSpan[]
  /** Content types of the export requests received. */
  contentTypes: string[]
  close(): Promise<void>
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const contentTypes: string[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      const type = String(req.headers['content-type'] ?? '')
      contentTypes.push(type)
      const body = Buffer.concat(chunks)
      try {
        if (type.startsWith('application/json')) {
          spans.push(...fromJson(JSON.parse(body.toString('utf8'))))
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
        } else if (type.startsWith('application/x-protobuf')) {
          spans.push(...fromProtobuf(ExportRequest.toObject(ExportRequest.decode(body), { longs: Number })))
          // An empty ExportTraceServiceResponse encodes as zero bytes.
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
        } else {
          res.writeHead(415).end()
        }
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

type Attribute = { key: string; value?: Record<string, unknown> }

function attributes(list: Attribute[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const { key, value = {} } of list ?? []) {
    const v = value.string_value ?? value.stringValue ?? value.bool_value ?? value.boolValue ?? value.int_value ?? value.intValue ?? value.double_value ?? value.doubleValue
    // OTLP/JSON writes 64-bit integers as strings.
    out[key] = (value.intValue !== undefined ? Number(v) : v) as string | number | boolean
  }
  return out
}

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex')

function fromProtobuf(request: any): ReceivedSpan[] {
  return (request.resource_spans ?? []).flatMap((rs: any) => {
    const service = String(attributes(rs.resource?.attributes)['service.name'])
    return (rs.scope_spans ?? []).flatMap((ss: any) =>
      (ss.spans ?? []).map((s: any) => ({
        service,
        scope: ss.scope?.name ?? '',
        traceId: hex(s.trace_id),
        spanId: hex(s.span_id),
        parentSpanId: hex(s.parent_span_id),
        name: s.name,
        kind: s.kind ?? 0,
        status: s.status?.code ?? 0,
        attributes: attributes(s.attributes),
      })),
    )
  })
}

function fromJson(request: any): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs: any) => {
    const service = String(attributes(rs.resource?.attributes)['service.name'])
    return (rs.scopeSpans ?? []).flatMap((ss: any) =>
      (ss.spans ?? []).map((s: any) => ({
        service,
        scope: ss.scope?.name ?? '',
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? '',
        name: s.name,
        kind: s.kind ?? 0,
        status: s.status?.code ?? 0,
        attributes: attributes(s.attributes),
      })),
    )
  })
}
