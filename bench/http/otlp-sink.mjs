// A local OTLP/HTTP receiver for the tracing rows: takes POST /v1/traces (protobuf), counts
// the spans and answers 200; GET /count says how many arrived, so the report can show that
// every request's span was exported and none was dropped.
import http from 'node:http'
import protobuf from 'protobufjs'

// Only the nesting down to the spans (OTLP field numbers); the spans' fields are skipped.
const { root } = protobuf.parse(
  `syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { repeated ScopeSpans scope_spans = 2; }
message ScopeSpans { repeated Span spans = 2; }
message Span {}
`,
  { keepCase: true },
)
const ExportRequest = root.lookupType('ExportTraceServiceRequest')

const counts = { requests: 0, spans: 0, bytes: 0 }
http
  .createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/count') return void res.end(JSON.stringify(counts))
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end()
      const body = Buffer.concat(chunks)
      counts.requests++
      counts.bytes += body.length
      for (const rs of ExportRequest.decode(body).resource_spans) for (const ss of rs.scope_spans) counts.spans += ss.spans.length
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
    })
  })
  .listen(Number(process.env.PORT), '127.0.0.1')
