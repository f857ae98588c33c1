// Spans of one event end to end, exported by OTLP/JSON to a receiver on loopback: the caller's
// traceparent continues into the kernel's request span (ingest), the batch commit and the claim
// link to it, and the row's processing span is its child, naming the raw row id.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { waitFor } from '@armature/testing'
import { post, startAnalytics, type AnalyticsKernel } from './support.ts'

interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>
  links?: Array<{ traceId: string; spanId: string }>
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER = '00f067aa0ba902b7'
const spans: Span[] = []
let receiver: http.Server
let a: AnalyticsKernel

test.before(async () => {
  receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> }
      for (const resource of parsed.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const { port } = receiver.address() as AddressInfo
  // Polling is as good as off (once an hour): only PGlite's NOTIFY can wake the dispatcher for the row.
  a = await startAnalytics('pglite', {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', ANALYTICS_POLL_INTERVAL_MS: '1h' },
  })
})

test.after(async () => {
  await a?.stop()
  receiver?.close()
})

const attribute = (span: Span, key: string) => {
  const value = span.attributes?.find((entry) => entry.key === key)?.value
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue))
}

test('ingest -> batch commit -> claim -> process, linked by the trace and the row id', async () => {
  assert.is((await post(a.url, { headers: { traceparent: `00-${TRACE_ID}-${CALLER}-01` } })).status, 202)
  const process = await waitFor(() => spans.find((span) => span.name === 'analytics process' && span.traceId === TRACE_ID), { timeoutMs: 15_000, what: 'the process span' })
  // The kernel's server span of the request is the ingest span.
  const ingest = await waitFor(() => spans.find((span) => span.kind === 2 && span.traceId === TRACE_ID), { what: 'the request span, continuing the caller trace' })
  assert.match(ingest.name, /^POST \/analytics/)
  assert.is(ingest.parentSpanId, CALLER)

  const [row] = await a.sql<{ id: string; traceparent: string }>('SELECT id::text, traceparent FROM raw_analytics')
  assert.is(row!.traceparent, `00-${TRACE_ID}-${ingest.spanId}-01`, 'the row keeps the ingest span as its trace context')

  const linksToIngest = (span: Span) => (span.links ?? []).some((link) => link.traceId === TRACE_ID && link.spanId === ingest.spanId)
  const commit = await waitFor(() => spans.find((span) => span.name === 'analytics batch commit' && linksToIngest(span)), { what: 'the batch commit span' })
  assert.is(attribute(commit, 'analytics.batch.rows'), '1')
  const claim = spans.find((span) => span.name === 'analytics claim' && linksToIngest(span))
  assert.ok(claim, 'the claim links to the ingest span')

  assert.is(process.parentSpanId, ingest.spanId, 'processing is a child of the ingest span')
  assert.is(attribute(process, 'analytics.raw_id'), row!.id)
  assert.is(attribute(process, 'analytics.attempt'), '1')
  assert.ok(
    (process.links ?? []).some((link) => link.spanId === claim!.spanId),
    'processing links to its claim',
  )
})

test.run()
