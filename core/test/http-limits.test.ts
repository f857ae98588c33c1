// Slow and oversized clients get their own status from the listener, before any plugin runs:
// 431 for a header block past Node's limit, 408 for headers or a body that trickle in past
// their timeouts; an HTTP/1.0 request without Host is served.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from 'node:net'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
const BODY = writePlugin(
  dir,
  'sink',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'sink',
  setup(ctx) {
    ctx.http.route(new Hono().get('/', (c) => c.text('ok')).post('/', async (c) => c.text(String((await c.req.arrayBuffer()).byteLength))))
  },
})
`,
)

let k: TestKernel
test.before(async () => {
  k = await startTestKernel({ plugins: [BODY], overrides: { http: { headersTimeoutMs: 400, requestTimeoutMs: 1200 } } })
})
test.after(() => k.stop().then(() => undefined))

/** Writes the chunks `gapMs` apart and resolves with the status line and whether the socket closed. */
function exchange(chunks: string[], gapMs = 0): Promise<{ status: string; closed: boolean }> {
  const { port } = new URL(k.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    let out = ''
    let timer: NodeJS.Timeout | undefined
    socket.on('data', (d) => (out += d))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ status: out.split('\r\n')[0] ?? '', closed: true })
    })
    let i = 0
    const next = () => {
      if (socket.destroyed || i >= chunks.length) return
      socket.write(chunks[i++]!)
      timer = setTimeout(next, gapMs)
    }
    next()
    // Nothing here should take long; a socket left open past this is the bug.
    setTimeout(() => {
      socket.destroy()
      reject(new Error(`socket still open; got ${JSON.stringify(out.slice(0, 80))}`))
    }, 15_000).unref()
  })
}

test('a 70 KB header block answers 431', async () => {
  const { status } = await exchange([`GET /sink HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`])
  assert.is(status, 'HTTP/1.1 431 Request Header Fields Too Large')
})

test('headers that trickle in past the headers timeout answer 408 and the socket closes', async () => {
  const trickle = 'GET /sink HTTP/1.1\r\nHost: x\r\nX-Slow: '.split('').concat(Array(60).fill('b'))
  const { status, closed } = await exchange(trickle, 40)
  assert.is(status, 'HTTP/1.1 408 Request Timeout')
  assert.ok(closed)
})

test('a body that trickles in past the request timeout answers 408', async () => {
  const { status } = await exchange(['POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n', ...Array(200).fill('a')], 30)
  assert.is(status, 'HTTP/1.1 408 Request Timeout')
})

test('an HTTP/1.0 request without Host is served', async () => {
  const { status } = await exchange(['GET /sink HTTP/1.0\r\n\r\n'])
  assert.is(status, 'HTTP/1.1 200 OK')
})

test('a bad request line still answers 400', async () => {
  const { status } = await exchange(['NONSENSE\r\n\r\n'])
  assert.is(status, 'HTTP/1.1 400 Bad Request')
})

test('the limits come from the environment and are checked', async () => {
  const { loadKernelConfig } = await import('../src/config.ts')
  const config = await loadKernelConfig({ cwd: dir, env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_MAX_CONNECTIONS: '5' } })
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = config.http
  assert.equal(
    { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections },
    { headersTimeoutMs: 1000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxConnections: 5 },
  )
  assert.is(config.http.backlog, 2048, "the listen backlog defaults above Node's 511")
  assert.is((await loadKernelConfig({ cwd: dir, env: { HTTP_BACKLOG: '4096' } })).http.backlog, 4096)
  try {
    await loadKernelConfig({ cwd: dir, env: { HTTP_BACKLOG: '0' } })
    assert.unreachable()
  } catch (error) {
    assert.match((error as Error).message, /HTTP_BACKLOG/)
  }
  try {
    await loadKernelConfig({ cwd: dir, env: { HTTP_HEADERS_TIMEOUT_MS: '90000' } })
    assert.unreachable()
  } catch (error) {
    assert.match((error as Error).message, /HTTP_HEADERS_TIMEOUT_MS: 90000 is longer than HTTP_REQUEST_TIMEOUT_MS/)
  }
})

test.run()
