// SIGTERM under mixed load: every protocol ends cleanly, in the configured order.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { spawnKernel, waitFor } from '@armature/testing'
import { ECHO_DIR } from './support.ts'
import { startMixedLoad } from './mixed-load.ts'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const TIMEOUT_MS = 10_000
const pluginsDir = mkdtempSync(join(tmpdir(), 'echo-plugins-'))
cpSync(ECHO_DIR, join(pluginsDir, 'echo'), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })

async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(text.match(/^armature_in_flight\{plugin="echo"\} (\d+)/m)?.[1] ?? 0)
}

async function run(order?: Record<string, number>) {
  const queue = `armature-test-echo-${randomUUID()}`
  const args = ['--plugins', pluginsDir]
  if (order) {
    const file = join(pluginsDir, `order-${randomUUID()}.json`)
    writeFileSync(file, JSON.stringify({ shutdown: { order } }))
    args.push('--config', file)
  }
  const k = await spawnKernel({
    args,
    env: { AMQP_URL, AMQP_PREFETCH: '2', ECHO_REQUEST_QUEUE: queue, ECHO_WORK_MS: '20', GRPC_PORT: '0', SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS) },
  })
  const grpcLine = await waitFor(() => k.messages().find((m) => m.startsWith('grpc listening on ')), { what: 'the grpc address' })
  const load = await startMixedLoad({ httpUrl: k.url, grpcAddress: grpcLine.slice('grpc listening on '.length), amqpUrl: AMQP_URL, requestQueue: queue })
  try {
    await waitFor(async () => (await inFlight(k.url)) >= 70, { what: '50 slow requests and 20 streams in flight', timeoutMs: 15_000 })
    const signalled = Date.now()
    k.child.kill('SIGTERM')
    const [exit, outcome] = await Promise.all([k.exited, load.outcome()])
    const stopMs = Date.now() - signalled
    return { exit, outcome, stopMs, k }
  } finally {
    await load.cleanup()
  }
}

test('SIGTERM under mixed load: everything ends cleanly, nothing lost', async () => {
  const { exit, outcome, stopMs, k } = await run()
  assert.is(exit.code, 0, k.stderr())
  assert.ok(stopMs < TIMEOUT_MS, `stopped in ${stopMs} ms`)
  assert.equal([...new Set(outcome.slowStatuses)], [200], 'every in-flight HTTP request completes with 200')
  assert.is(outcome.idleClosed, 200)
  assert.equal([...new Set(outcome.wsCloseCodes)], [1001], 'WebSocket clients receive 1001')
  assert.is(outcome.grpcStatuses.length, 20)
  assert.ok(
    outcome.grpcStatuses.every((code) => code === grpc.status.UNAVAILABLE || code === grpc.status.OK),
    `stream statuses ${outcome.grpcStatuses}`,
  )
  const a = outcome.amqp!
  assert.is(a.duplicates, 0, 'no message handled twice')
  assert.is(a.replies + a.leftInQueue, a.published, `replies ${a.replies} + in queue ${a.leftInQueue} = ${a.published}`)
  assert.ok(a.replies > 0 && a.leftInQueue > 0, `some handled (${a.replies}), some left (${a.leftInQueue})`)
  assert.is(k.stderr(), '')
  assert.not.match(k.lines.join('\n'), /\n\s+at |Unhandled|unhandled/)
  const orderLine = k.messages().find((m) => m.startsWith('shutdown order: '))!
  assert.match(orderLine, /^shutdown order: 0 Ready \[readiness\] -> 10 Ingress \[http, grpc, ws, amqp:consumers\] -> 40 Egress \[amqp:connection\] -> 50 Final \[log\]/)
})

test('a user-set order (AMQP first, HTTP last) is followed and logged', async () => {
  const { exit, outcome, k } = await run({ amqp: 5, grpc: 20, ws: 30, http: 45 })
  assert.is(exit.code, 0, k.stderr())
  assert.equal([...new Set(outcome.slowStatuses)], [200])
  assert.is(outcome.amqp!.replies + outcome.amqp!.leftInQueue, outcome.amqp!.published)
  const phases = k
    .messages()
    .filter((m) => m.startsWith('shutdown phase '))
    .map((m) => m.replace(/ done in \d+ ms/, '').replace(/; not clean.*/, ''))
  assert.equal(phases, [
    'shutdown phase 0 Ready: readiness',
    'shutdown phase 5: amqp:consumers, amqp:connection',
    'shutdown phase 20 Work: grpc',
    'shutdown phase 30 Flush: ws',
    'shutdown phase 45: http',
    'shutdown phase 50 Final: log',
  ])
})

test.run()
