// Registering and deleting servers under load never fails a request to the servers that stay.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import http from 'node:http'
import { startTestKernel } from '@armature/testing'
import { PLUGINS, TOKEN, adminClient, register, request, startUpstream } from './support.ts'

test('50 servers registered and deleted under load: 0 failed requests to the existing ones', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')])
  const k = await startTestKernel({ plugins: PLUGINS, env: { ADMIN_TOKEN: TOKEN } })
  const admin = adminClient(k.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  try {
    const steady = [
      await register(admin, { name: 'steady-1', routes: [{ path: '/', targets: [a.url, b.url] }] }),
      await register(admin, { name: 'steady-2', routes: [{ path: '/v', targets: [b.url], strip: true }] }),
    ]
    let running = true
    let ok = 0
    const failures: string[] = []
    const client = async (i: number) => {
      const [base, path] = i % 2 === 0 ? [steady[0], '/x'] : [steady[1], '/v/x']
      while (running) {
        try {
          const answer = await request(`${base}${path}`, { agent, ...(i % 3 === 0 ? { method: 'POST', body: 'payload' } : {}) })
          if (answer.status === 200) ok++
          else failures.push(`${answer.status} ${answer.text}`)
        } catch (error) {
          failures.push(String(error))
        }
      }
    }
    const clients = Array.from({ length: 12 }, (_, i) => client(i))

    let churned = 0
    const churn = async (lane: number) => {
      for (let i = lane; i < 50; i += 5) {
        const url = await register(admin, { name: `churn-${i}`, routes: [{ path: '/', targets: [a.url] }] })
        assert.is((await request(`${url}/through`)).status, 200)
        const removed = await admin.remove(`churn-${i}`)
        assert.is(removed.status, 200, JSON.stringify(removed.body))
        churned++
      }
    }
    await Promise.all([0, 1, 2, 3, 4].map(churn))
    running = false
    await Promise.all(clients)

    assert.is(churned, 50)
    assert.equal(failures.slice(0, 5), [], `${failures.length} failed requests`)
    assert.ok(ok > 200, `${ok} requests answered`)
    assert.equal(
      (await admin.list()).body.servers.map((s: { name: string }) => s.name),
      ['steady-1', 'steady-2'],
    )
  } finally {
    agent.destroy()
    await k.stop()
    await Promise.all([a.close(), b.close()])
  }
})

test.run()
