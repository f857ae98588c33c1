// Clients that send and never read their replies: the kernel ends them at its buffered-bytes
// caps (WebSocket 1008, gRPC RESOURCE_EXHAUSTED) and its memory stays bounded.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import WebSocket from 'ws'
import { waitFor } from '@armature/testing'
import { echoClient, healthy, metric, spawnEcho, stopChild } from './support.ts'

const MESSAGE = 'x'.repeat(60_000)
/** Far more than the caps: each flooding client offers up to this many replies' worth. */
const MAX_MESSAGES = 1000
const GROWTH_LIMIT = 200 * 1024 * 1024

let k: Awaited<ReturnType<typeof spawnEcho>>

test.before(async () => {
  k = await spawnEcho()
})
test.after(() => stopChild(k))

/** The kernel's resident set, from /proc (0 once it has exited). */
function rss(pid: number): number {
  let status = ''
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    // gone
  }
  const line = status.split('\n').find((l) => l.startsWith('VmRSS:'))
  return line ? Number(line.split(/\s+/)[1]) * 1024 : 0
}

/** Samples the kernel's RSS until stopped; `peak` is the highest seen. */
function watchRss(pid: number) {
  const sample = { start: rss(pid), peak: rss(pid) }
  const timer = setInterval(() => (sample.peak = Math.max(sample.peak, rss(pid))), 50)
  return { sample, stop: () => clearInterval(timer) }
}

/** Kernel log lines saying a stream was ended over its cap. */
const overflowLines = (protocol: 'websocket' | 'grpc') =>
  k.messages().filter((m) => (protocol === 'websocket' ? / closed with 1008: .*WS_MAX_BUFFERED_BYTES/ : /RESOURCE_EXHAUSTED: .*GRPC_MAX_BUFFERED_BYTES/).test(m))
const overflows = (protocol: 'websocket' | 'grpc') => overflowLines(protocol).length

/** Sends 60 KB messages, each once the previous one is written, until `enough` or MAX_MESSAGES. */
async function floodWs(ws: WebSocket, enough: () => boolean): Promise<void> {
  for (let i = 0; i < MAX_MESSAGES && !enough() && ws.readyState === ws.OPEN; i++) await new Promise((resolve) => ws.send(MESSAGE, resolve))
}

async function warmUp(): Promise<void> {
  const client = echoClient(k.grpcAddress)
  await new Promise((resolve, reject) => client.Unary({ message: 'warm' }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))))
  client.close()
  const ws = new WebSocket(`${k.url.replace('http', 'ws')}/echo/ws`)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const reply = new Promise((resolve) => ws.once('message', resolve))
  ws.send('warm')
  await reply
  ws.close()
}

test('4 WebSocket clients that never read are closed with 1008; RSS stays bounded', async () => {
  await warmUp()
  const before = overflows('websocket')
  const watch = watchRss(k.child.pid!)
  const clients = await Promise.all(
    Array.from({ length: 4 }, async (_, n) => {
      const ws = new WebSocket(`${k.url.replace('http', 'ws')}/echo/ws`)
      ws.on('error', () => undefined)
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
      const port = await new Promise<number>((resolve, reject) => ws.once('upgrade', (response) => resolve(response.socket.localPort!)).once('error', reject))
      await new Promise((resolve) => (ws.readyState === ws.OPEN ? resolve(undefined) : ws.once('open', resolve)))
      ws.pause()
      // Two read again as soon as the kernel has closed them, and find the 1008 behind their
      // replies; two never read and are terminated.
      const reads = n < 2
      const overflowed = () => overflowLines('websocket').some((m) => m.includes(`from 127.0.0.1:${port} `))
      return { ws, closed, reads, overflowed }
    }),
  )
  const enough = () => overflows('websocket') - before >= clients.length
  await Promise.all(
    clients.map(async (c) => {
      await floodWs(c.ws, c.overflowed)
      await waitFor(c.overflowed, { what: 'the kernel to close a flooding socket', timeoutMs: 20_000 })
      if (c.reads) c.ws.resume()
    }),
  )
  assert.ok(enough())
  assert.ok(await healthy(k.url), '/healthz answers during the flood')
  const [readers, idle] = [clients.filter((c) => c.reads), clients.filter((c) => !c.reads)]
  assert.equal(await Promise.all(readers.map((c) => c.closed)), [1008, 1008])
  await waitFor(async () => (await metric(k.url, 'armature_websocket_clients{plugin="echo"}')) === 0, { what: 'the idle sockets to be terminated', timeoutMs: 20_000 })
  watch.stop()
  for (const { ws } of idle) ws.terminate()
  const growth = watch.sample.peak - watch.sample.start
  assert.ok(growth < GROWTH_LIMIT, `RSS grew ${Math.round(growth / 1048576)} MB during the flood`)
  console.log(`websocket flood: RSS ${mb(watch.sample.start)} -> peak ${mb(watch.sample.peak)} -> ${mb(rss(k.child.pid!))}`)
})

test('gRPC Bidi clients that never read end with RESOURCE_EXHAUSTED; RSS stays bounded', async () => {
  const before = overflows('grpc')
  const watch = watchRss(k.child.pid!)
  const client = echoClient(k.grpcAddress)
  const clients = [0, 1].map(() => {
    const call = client.Bidi() as grpc.ClientDuplexStream<{ message: string }, unknown>
    // Reads the first reply, then stops: grpc-js stops reading the HTTP/2 stream, so flow control
    // holds the replies on the server. (A grpc-js call that never started reading buffers every
    // reply in the client instead.)
    const stopReading = () => {
      call.pause()
      call.off('data', stopReading)
    }
    call.on('data', stopReading)
    call.on('error', () => undefined)
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve))
    return { call, status }
  })
  const enough = () => overflows('grpc') - before >= clients.length
  const allEnded = waitFor(enough, { what: 'the kernel to end every flooding call', timeoutMs: 30_000 })
  await Promise.all(
    clients.map(async ({ call, status }) => {
      let ended = false
      void status.then(() => (ended = true))
      // A write the server no longer reads never calls back: the status or the kernel's log ends the wait too.
      for (let i = 0; i < MAX_MESSAGES && !enough() && !ended; i++) await Promise.race([new Promise((resolve) => call.write({ message: MESSAGE }, resolve)), status, allEnded])
    }),
  )
  await allEnded
  assert.ok(await healthy(k.url), '/healthz answers during the flood')
  // One reads again and finds the status, naming the limit, behind its replies; one never reads and is reset.
  const [reader, idle] = clients as [(typeof clients)[0], (typeof clients)[0]]
  reader.call.on('data', () => undefined)
  reader.call.resume()
  const read = await reader.status
  assert.is(read.code, grpc.status.RESOURCE_EXHAUSTED, read.details)
  assert.match(read.details, /more than 8388608 bytes are waiting .*GRPC_MAX_BUFFERED_BYTES/)
  const reset = await idle.status
  assert.is(reset.code, grpc.status.RESOURCE_EXHAUSTED, reset.details)
  watch.stop()
  client.close()
  const growth = watch.sample.peak - watch.sample.start
  assert.ok(growth < GROWTH_LIMIT, `RSS grew ${Math.round(growth / 1048576)} MB during the flood`)
  console.log(`grpc flood: RSS ${mb(watch.sample.start)} -> peak ${mb(watch.sample.peak)} -> ${mb(rss(k.child.pid!))}`)
  assert.is(await metric(k.url, 'armature_in_flight{plugin="echo"}'), 0)
})

function mb(bytes: number): string {
  return `${Math.round(bytes / 1048576)} MB`
}

test.run()
