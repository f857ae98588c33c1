// Hot swap of the echo plugin under load on every protocol.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocket from 'ws'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { ECHO_DIR, echoClient, unary } from './support.ts'

let k: TestKernel
test.before(async () => {
  k = await startTestKernel({ plugins: [ECHO_DIR], env: { GRPC_PORT: '0', ADMIN_TOKEN: 'reload-token' } })
})
test.after(async () => {
  await k.stop()
})

const reload = async () => {
  const res = await fetch(`${k.url}/_armature/plugins/echo/reload`, { method: 'POST', headers: { authorization: 'Bearer reload-token' } })
  assert.is(res.status, 200, await res.clone().text())
  return ((await res.json()) as { generation: number }).generation
}

test('20 reloads under HTTP and gRPC load: 0 failed requests or calls', async () => {
  const client = echoClient(`127.0.0.1:${k.kernel.addresses.grpc}`)
  let stop = false
  const failures: string[] = []
  let http = 0
  let calls = 0
  const generations = new Set<number>()
  const httpLoop = async () => {
    while (!stop) {
      try {
        const res = await fetch(`${k.url}/echo?message=load`)
        const body = (await res.json()) as { generation: number }
        if (res.status !== 200) failures.push(`http ${res.status}`)
        generations.add(body.generation)
        http++
      } catch (error) {
        failures.push(`http ${(error as Error).message}`)
      }
    }
  }
  const grpcLoop = async () => {
    while (!stop) {
      try {
        const reply = await unary(client, 'load')
        generations.add(reply.generation)
        calls++
      } catch (error) {
        failures.push(`grpc ${(error as Error).message}`)
      }
    }
  }
  const loops = [...Array.from({ length: 4 }, httpLoop), ...Array.from({ length: 4 }, grpcLoop)]
  let last = 0
  try {
    for (let i = 0; i < 20; i++) {
      const before = http + calls
      last = await reload()
      // Let traffic reach each generation before the next swap.
      await waitFor(() => http + calls >= before + 40, { what: 'traffic between reloads' })
    }
  } finally {
    stop = true
    await Promise.all(loops)
    client.close()
  }
  assert.equal(failures, [])
  assert.is(last, 21)
  assert.ok(http > 200 && calls > 200, `http ${http}, grpc ${calls}`)
  assert.ok(generations.size >= 15, `answers came from ${generations.size} generations`)
})

test("a reload closes the old generation's WebSockets with 1012; a reconnect reaches the new one", async () => {
  const url = `${k.url.replace('http', 'ws')}/echo/ws`
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  const generation = await reload()
  assert.is(await closed, 1012)
  const again = new WebSocket(url)
  await new Promise((resolve, reject) => again.once('open', resolve).once('error', reject))
  const reply = new Promise<any>((resolve) => again.once('message', (d) => resolve(JSON.parse(String(d)))))
  again.send('hello again')
  assert.is((await reply).generation, generation)
  again.close()
})

test.run()
