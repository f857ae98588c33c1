// The fault-test TCP proxy: passes bytes both ways, cut() severs and refuses, restore() heals.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTcpProxy } from '../src/tcp-proxy.ts'
import { waitFor } from '../src/kernel.ts'

/** An echo server standing in for a real one. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.on('error', () => {}).pipe(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

/** Connects, sends `text` and resolves with the echo, or rejects if the connection ends first. */
function roundTrip(port: number, text: string): Promise<{ reply: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    socket.on('data', (chunk) => {
      reply += chunk
      if (reply.length >= text.length) resolve({ reply, socket })
    })
    socket.on('error', reject)
    socket.on('close', () => reject(new Error(`closed after '${reply}'`)))
    socket.write(text)
  })
}

test('passes bytes both ways and counts connections', async () => {
  const echo = await echoServer()
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: echo.port })
  const { reply, socket } = await roundTrip(proxy.port, 'hello')
  assert.is(reply, 'hello')
  assert.is(proxy.connections, 1)
  socket.destroy()
  await waitFor(() => proxy.connections === 0, { timeoutMs: 2000, what: 'the connection to be released' })
  await proxy.close()
  echo.server.close()
})

test('cut() destroys open connections and refuses new ones until restore()', async () => {
  const echo = await echoServer()
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: echo.port })
  const { socket } = await roundTrip(proxy.port, 'before')
  const closed = once(socket, 'close')
  proxy.cut()
  await closed
  assert.is(proxy.connections, 0)

  try {
    await roundTrip(proxy.port, 'during')
    assert.unreachable('a cut proxy must not pass bytes')
  } catch (error) {
    assert.not.match((error as Error).message, /during/)
  }

  proxy.restore()
  const after = await roundTrip(proxy.port, 'after')
  assert.is(after.reply, 'after')
  after.socket.destroy()
  await proxy.close()
  echo.server.close()
})

test('listens on a chosen port; close() is idempotent and frees it', async () => {
  const echo = await echoServer()
  const first = await startTcpProxy({ host: '127.0.0.1', port: echo.port })
  const port = first.port
  const { socket } = await roundTrip(port, 'x')
  await Promise.all([first.close(), first.close()])
  await waitFor(() => socket.destroyed, { timeoutMs: 2000, what: 'the client socket to be closed' })
  first.restore()
  const again = await startTcpProxy({ host: '127.0.0.1', port: echo.port }, { port })
  assert.is(again.port, port, 'the port was released and reused')
  assert.is((await roundTrip(port, 'y')).reply, 'y')
  await again.close()
  await new Promise<void>((resolve) => echo.server.close(() => resolve()))
})

test.run()
