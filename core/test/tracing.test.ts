// Tracing: spans per HTTP request and gRPC call exported by OTLP to a receiver on loopback,
// W3C traceparent in and out across the proxy plugin's forwarder, the flush at stop, and
// the OTEL_* settings.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { connect } from 'amqplib'
import { ConfigError } from '@armature/core'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { readTracingConfig } from '../src/tracing/config.ts'
import { Kind, StatusCode, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts'
import { pluginsFolder, writePlugin } from './support.ts'

const PLUGINS = join(import.meta.dirname, '../../plugins')
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`

const ITEMS_PROTO = `syntax = "proto3";
package test.trace;
service Items {
  rpc Get (Item) returns (Item);
  rpc Fail (Item) returns (Item);
  rpc List (Item) returns (stream Item);
}
message Item { string id = 1; }
`

// Answers items over HTTP and gRPC; a child span of its own shows ctx.tracer under the kernel's span.
const DOWNSTREAM = `import { definePlugin, grpc } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'downstream',
  version: '1.2.3',
  setup(ctx) {
    ctx.http.route(new Hono()
      .get('/items/:id', (c) => ctx.tracer.startActiveSpan('load item', (span) => {
        const recording = span.isRecording()
        span.end()
        return c.json({ id: c.req.param('id'), recording })
      }))
      .get('/broken', () => { throw new Error('broken on purpose') }))
    const pkg = ctx.grpc.load('items.proto') as any
    ctx.grpc.service(pkg.test.trace.Items.service, {
      Get(call: any, callback: any) {
        if (call.request.id === 'missing') callback({ code: grpc.status.NOT_FOUND, details: 'no such item' })
        else callback(null, { id: call.request.id })
      },
      Fail() { throw new Error('failing on purpose') },
      List(call: any) { call.write({ id: 'a' }); call.write({ id: 'b' }); call.end() },
    })
  },
})
`

// Forwards to another server with the proxy plugin's Forwarder, as `ctx.use('proxy').forward`
// (the shortener's proxy mode) does; built in place, so no db plugin has to boot for it.
const RELAY = `import { definePlugin } from '@armature/core'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { Hono } from 'hono'
import { Forwarder } from ${JSON.stringify(join(PLUGINS, 'proxy/src/forwarder.ts'))}
export default definePlugin({
  name: 'relay',
  config: { upstream: '' },
  setup(ctx) {
    const forwarder = new Forwarder({ connectTimeoutMs: 2000, responseTimeoutMs: 5000, maxBodyBytes: 1024 })
    ctx.onStop('pools', () => forwarder.close())
    ctx.http.route(new Hono().get('/items/:id', async (c) => {
      await forwarder.forwardTo(c.env.incoming, c.env.outgoing, ctx.config.upstream + '/items/' + c.req.param('id'))
      return RESPONSE_ALREADY_SENT
    }))
  },
})
`

// Publishes from an HTTP handler; its consumer fails the first attempt and takes the retry.
const ORDERS = `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'orders',
  config: { queue: '' },
  async setup(ctx) {
    const queue = ctx.config.queue
    const handled: number[] = []
    await ctx.queue.consume(queue, (message) => {
      handled.push(message.attempt)
      if (message.attempt === 1) throw new Error('first attempt fails on purpose')
    }, { retryDelayMs: 0, maxRetries: 1 })
    ctx.http.route(new Hono()
      .post('/', async (c) => {
        await ctx.queue.publish(queue, { id: 1 })
        return c.json({ published: true }, 202)
      })
      .get('/handled', (c) => c.json(handled)))
  },
})
`

function pluginDir(): string {
  const dir = pluginsFolder()
  writePlugin(dir, 'downstream', DOWNSTREAM)
  mkdirSync(join(dir, 'downstream/proto'))
  writeFileSync(join(dir, 'downstream/proto/items.proto'), ITEMS_PROTO)
  writePlugin(dir, 'relay', RELAY)
  writePlugin(dir, 'orders', ORDERS)
  return dir
}

const tracingEnv = (receiver: OtlpReceiver, service: string, extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_SERVICE_NAME: service,
  // Export within a few milliseconds, so the test waits on spans, not on the batch timer.
  OTEL_BSP_SCHEDULE_DELAY: '20',
  ...extra,
})

const kernels: TestKernel[] = []
const receivers: OtlpReceiver[] = []
const closers: Array<() => Promise<unknown>> = []
test.after.each(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()))
  await Promise.all([...receivers.splice(0).map((r) => r.close()), ...closers.splice(0).map((close) => close())])
})
const boot = async (options: Parameters<typeof startTestKernel>[0]) => {
  const k = await startTestKernel(options)
  kernels.push(k)
  return k
}
const receiver = async () => {
  const r = await startOtlpReceiver()
  receivers.push(r)
  return r
}
const spanNamed = (r: OtlpReceiver, service: string, name: string) => () => r.spans.find((s) => s.service === service && s.name === name)

/** An upstream that records the headers it was sent. */
async function headerRecorder(): Promise<{ url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = []
  const server = http.createServer((req, res) => {
    seen.push(req.headers)
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

test('OTEL_* settings: off without an endpoint, /v1/traces appended, the traces variables win, bad values named', () => {
  assert.is(readTracingConfig({}), undefined)
  assert.is(readTracingConfig({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), undefined)
  const base = readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })!
  assert.is(base.url, 'http://collector:4318/v1/traces')
  assert.is(base.protocol, 'http/protobuf')
  assert.is(base.sampler, 'parentbased_always_on')
  assert.equal(base.batch, { scheduleDelayMs: 5000, exportTimeoutMs: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 })
  const specific = readTracingConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-team=core',
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,deployment.environment.name=test',
    OTEL_BSP_SCHEDULE_DELAY: '250',
  })!
  assert.is(specific.url, 'http://traces:9999/custom')
  assert.is(specific.protocol, 'http/json')
  assert.equal(specific.headers, { authorization: 'Bearer abc', 'x-team': 'core' })
  assert.is(specific.serviceName, 'from-resource')
  assert.is(specific.batch.scheduleDelayMs, 250)
  assert.is(readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined)
  assert.is(readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }), undefined)

  const refused = (env: Record<string, string>, key: string, pattern: RegExp) => {
    try {
      readTracingConfig(env)
      assert.unreachable(`${key} should be refused`)
    } catch (error) {
      assert.instance(error, ConfigError)
      assert.is((error as ConfigError).key, key)
      assert.match((error as Error).message, pattern)
    }
  }
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }
  refused({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL', /"grpc" is not supported \(http\/protobuf or http\/json\)/)
  refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT', /must be an http:\/\/ or https:\/\/ URL/)
  refused({ ...endpoint, OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY', /not a non-negative integer/)
  refused({ ...endpoint, OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', /larger than OTEL_BSP_MAX_QUEUE_SIZE/)
  refused({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG', /ratio from 0 to 1/)
  refused({ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS', /not a key=value pair/)
})

test('an invalid OTEL_* value stops start-up naming the variable', async () => {
  try {
    await boot({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' } })
    assert.unreachable('the kernel should not start')
  } catch (error) {
    assert.instance(error, ConfigError)
    assert.match((error as Error).message, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "thrift" is not supported/)
  }
})

test('tracing off: no recording spans, and the proxy forwarder passes the caller traceparent through unchanged', async () => {
  const upstream = await headerRecorder()
  const dir = pluginDir()
  const k = await boot({ plugins: [join(dir, 'downstream'), join(dir, 'relay')], env: { RELAY_UPSTREAM: upstream.url } })
  assert.is(k.kernel.tracing.enabled, false)
  const item = await fetch(`${k.url}/downstream/items/1`, { headers: { traceparent: TRACEPARENT } })
  assert.equal(await item.json(), { id: '1', recording: false })
  const relayed = await fetch(`${k.url}/relay/items/2`, { headers: { traceparent: TRACEPARENT, tracestate: 'vendor=1' } })
  assert.is(relayed.status, 200)
  assert.is(upstream.seen.length, 1)
  assert.is(upstream.seen[0]!.traceparent, TRACEPARENT)
  assert.is(upstream.seen[0]!.tracestate, 'vendor=1')
})

test('protobuf export: client traceparent -> kernel span -> proxy forwarder -> upstream kernel span -> plugin span', async () => {
  const r = await receiver()
  const dir = pluginDir()
  const upstream = await boot({ plugins: [join(dir, 'downstream')], env: tracingEnv(r, 'upstream-svc') })
  const edge = await boot({ plugins: [join(dir, 'relay')], env: tracingEnv(r, 'edge-svc', { RELAY_UPSTREAM: `${upstream.url}/downstream` }) })
  const answer = await fetch(`${edge.url}/relay/items/7?x=1`, { headers: { traceparent: TRACEPARENT } })
  assert.is(answer.status, 200)
  assert.equal(await answer.json(), { id: '7', recording: true })

  const edgeSpan = await waitFor(spanNamed(r, 'edge-svc', 'GET /relay/items/:id'), { what: 'the edge kernel span' })
  const upstreamSpan = await waitFor(spanNamed(r, 'upstream-svc', 'GET /downstream/items/:id'), { what: 'the upstream kernel span' })
  const pluginSpan = await waitFor(spanNamed(r, 'upstream-svc', 'load item'), { what: 'the plugin span' })
  // One trace from the caller's traceparent down: each span the child of the one before.
  for (const span of [edgeSpan, upstreamSpan, pluginSpan]) assert.is(span.traceId, TRACE_ID, span.name)
  assert.is(edgeSpan.parentSpanId, CALLER_SPAN)
  assert.is(upstreamSpan.parentSpanId, edgeSpan.spanId)
  assert.is(pluginSpan.parentSpanId, upstreamSpan.spanId)
  assert.is(edgeSpan.kind, Kind.SERVER)
  assert.is(edgeSpan.scope, 'armature')
  assert.is(pluginSpan.scope, 'downstream')
  assert.equal(edgeSpan.attributes, {
    'http.request.method': 'GET',
    'url.path': '/relay/items/7',
    'url.scheme': 'http',
    'http.route': '/relay/items/:id',
    'http.response.status_code': 200,
  })
  assert.is(upstreamSpan.attributes['url.path'], '/downstream/items/7')
  assert.ok(r.contentTypes.length > 0 && r.contentTypes.every((t) => t === 'application/x-protobuf'), r.contentTypes.join())

  // Without a traceparent the kernel starts a trace of its own; a 5xx marks the span failed.
  assert.is((await fetch(`${upstream.url}/downstream/broken`)).status, 500)
  const broken = await waitFor(spanNamed(r, 'upstream-svc', 'GET /downstream/broken'), { what: 'the failed request span' })
  assert.is(broken.parentSpanId, '')
  assert.is.not(broken.traceId, TRACE_ID)
  assert.is(broken.status, StatusCode.ERROR)
  assert.is(broken.attributes['http.response.status_code'], 500)
  assert.is(broken.attributes['error.type'], '500')
})

test('gRPC calls get a server span continuing the metadata traceparent, with the status code', async () => {
  const r = await receiver()
  const dir = pluginDir()
  const k = await boot({ plugins: [join(dir, 'downstream')], env: { ...tracingEnv(r, 'grpc-svc'), GRPC_PORT: '0' } })
  const definition = loadSync(join(dir, 'downstream/proto/items.proto'), { keepCase: true, defaults: true })
  const Items = (grpc.loadPackageDefinition(definition) as any).test.trace.Items
  const client = new Items(`127.0.0.1:${k.kernel.addresses.grpc}`, grpc.credentials.createInsecure())
  closers.push(async () => client.close())
  const metadata = () => {
    const m = new grpc.Metadata()
    m.set('traceparent', TRACEPARENT)
    return m
  }
  const unary = (method: string, id: string) =>
    new Promise<{ error: grpc.ServiceError | null; value: unknown }>((resolve) =>
      client[method]({ id }, metadata(), (error: grpc.ServiceError | null, value: unknown) => resolve({ error, value })),
    )
  assert.equal((await unary('Get', 'x')).value, { id: 'x' })
  assert.is((await unary('Get', 'missing')).error?.code, grpc.status.NOT_FOUND)
  assert.is((await unary('Fail', 'x')).error?.code, grpc.status.INTERNAL)
  const listed: unknown[] = []
  await new Promise<void>((resolve, reject) => {
    const stream = client.List({ id: '' }, metadata())
    stream.on('data', (item: unknown) => listed.push(item))
    stream.on('end', resolve)
    stream.on('error', reject)
  })
  assert.is(listed.length, 2)

  const spans = await waitFor(
    () => {
      const found = r.spans.filter((s) => s.service === 'grpc-svc')
      return found.length >= 4 ? found : undefined
    },
    { what: 'four gRPC spans' },
  )
  const byCode = (name: string, code: string) => spans.find((s) => s.name === name && s.attributes['rpc.status_code'] === code)
  const ok = byCode('test.trace.Items/Get', 'OK')!
  assert.ok(ok, JSON.stringify(spans))
  assert.is(ok.kind, Kind.SERVER)
  assert.is(ok.traceId, TRACE_ID)
  assert.is(ok.parentSpanId, CALLER_SPAN)
  assert.equal(ok.attributes, {
    'rpc.system.name': 'grpc',
    'rpc.system': 'grpc',
    'rpc.method': 'test.trace.Items/Get',
    'rpc.service': 'test.trace.Items',
    'rpc.status_code': 'OK',
    'rpc.grpc.status_code': 0,
  })
  // NOT_FOUND is the caller's problem; INTERNAL is the server's.
  assert.is(byCode('test.trace.Items/Get', 'NOT_FOUND')!.status, StatusCode.UNSET)
  assert.is(byCode('test.trace.Items/Fail', 'INTERNAL')!.status, StatusCode.ERROR)
  const list = byCode('test.trace.Items/List', 'OK')!
  assert.ok(list, 'the server stream span ends OK')
  assert.is(list.parentSpanId, CALLER_SPAN)
})

test('queue hop: a publish in a request handler is a producer span; each attempt at the message is a consumer span under it', async () => {
  const queue = `armature-test-trace-${randomUUID().slice(0, 8)}`
  closers.push(async () => {
    const connection = await connect(AMQP_URL)
    const channel = await connection.createChannel()
    for (const q of [queue, `${queue}.dead`]) await channel.deleteQueue(q).catch(() => {})
    await connection.close()
  })
  const r = await receiver()
  const dir = pluginDir()
  const k = await boot({ plugins: [join(dir, 'orders')], env: { ...tracingEnv(r, 'orders-svc'), AMQP_URL, ORDERS_QUEUE: queue } })
  assert.is((await fetch(`${k.url}/orders`, { method: 'POST', headers: { traceparent: TRACEPARENT } })).status, 202)
  await waitFor(async () => ((await (await fetch(`${k.url}/orders/handled`)).json()) as number[]).length === 2, { what: 'the message and its retry' })

  const request = await waitFor(spanNamed(r, 'orders-svc', 'POST /orders'), { what: 'the request span' })
  const publish = await waitFor(spanNamed(r, 'orders-svc', `publish ${queue}`), { what: 'the producer span' })
  const attempts = await waitFor(
    () => {
      const found = r.spans.filter((s) => s.name === `process ${queue}`)
      return found.length === 2 ? found.sort((a, b) => Number(a.attributes['armature.queue.attempt']) - Number(b.attributes['armature.queue.attempt'])) : undefined
    },
    { what: 'two consumer spans' },
  )
  assert.is(request.parentSpanId, CALLER_SPAN)
  assert.is(publish.parentSpanId, request.spanId)
  assert.is(publish.kind, Kind.PRODUCER)
  assert.equal(publish.attributes, {
    'messaging.system': 'rabbitmq',
    'messaging.destination.name': queue,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'publish',
  })
  for (const attempt of attempts) {
    assert.is(attempt.traceId, TRACE_ID)
    assert.is(attempt.parentSpanId, publish.spanId, 'the publisher context rides in the message headers, across the retry too')
    assert.is(attempt.kind, Kind.CONSUMER)
    assert.is(attempt.attributes['messaging.system'], 'rabbitmq')
    assert.is(attempt.attributes['messaging.destination.name'], queue)
    assert.is(attempt.attributes['messaging.operation.type'], 'process')
    assert.type(attempt.attributes['messaging.message.id'], 'string')
  }
  assert.is(attempts[0]!.status, StatusCode.ERROR)
  assert.is(attempts[0]!.attributes['error.type'], 'Error')
  assert.is(attempts[1]!.status, StatusCode.UNSET)
})

test('stop exports the spans still buffered (JSON protocol), in the Final phase', async () => {
  const r = await receiver()
  const dir = pluginDir()
  // The batch timer would wait ten minutes: only the stop can send these spans.
  const k = await startTestKernel({
    plugins: [join(dir, 'downstream')],
    env: tracingEnv(r, 'json-svc', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '600000' }),
  })
  assert.is((await fetch(`${k.url}/downstream/items/9`, { headers: { traceparent: TRACEPARENT } })).status, 200)
  assert.is(r.spans.length, 0)
  const plan = k.kernel.stopPlan().phases.find((p) => p.phase === 50)!
  assert.ok(
    plan.entries.some((e) => e.id === 'tracing'),
    JSON.stringify(plan),
  )
  const report = await k.stop()
  assert.is(report.outcomes.get('tracing'), 'ok')
  assert.ok(report.order.find((p) => p.ids.includes('tracing'))!.phase === 50, JSON.stringify(report.order))
  const server = r.spans.find((s: ReceivedSpan) => s.name === 'GET /downstream/items/:id')
  assert.ok(server, JSON.stringify(r.spans))
  assert.is(server!.service, 'json-svc')
  assert.is(server!.traceId, TRACE_ID)
  assert.is(server!.parentSpanId, CALLER_SPAN)
  assert.ok(
    r.contentTypes.every((t) => t.startsWith('application/json')),
    r.contentTypes.join(),
  )
})

test('a receiver that never answers drops the last spans with a warning; the stop stays clean', async () => {
  const held: http.ServerResponse[] = []
  const silent = http.createServer((_req, res) => void held.push(res))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  closers.push(() => {
    silent.closeAllConnections()
    return new Promise((resolve) => silent.close(resolve))
  })
  const dir = pluginDir()
  // Outside the test kernel's folder, which its stop removes.
  const logFile = join(pluginsFolder(), 'armature.log')
  const k = await startTestKernel({
    plugins: [join(dir, 'downstream')],
    env: {
      LOG_FILE: logFile,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '800',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    },
  })
  assert.is((await fetch(`${k.url}/downstream/items/1`)).status, 200)
  const report = await k.stop()
  assert.is(report.ok, true)
  assert.is(report.outcomes.get('tracing'), 'ok')
  assert.ok(held.length >= 1, 'the export reached the receiver')
  const { readFileSync } = await import('node:fs')
  const warnings = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"level":40'))
    .map((l) => JSON.parse(l).msg as string)
  assert.ok(
    warnings.some((m) => /^tracing: /.test(m)),
    warnings.join('\n'),
  )
})

test.run()
