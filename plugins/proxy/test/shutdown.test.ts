// SIGTERM with five registered servers: they stop one after another in the configured
// order (read back from the kernel's log), and requests in flight through them complete.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnKernel, waitFor } from '@armature/testing'
import { DB_DIR, PROXY_DIR, TOKEN, adminClient, register, request, startUpstream, type Upstream } from './support.ts'

const pluginsDir = mkdtempSync(join(tmpdir(), 'proxy-plugins-'))
// The proxy uses the db plugin, so the drop-in folder holds both.
for (const [dir, name] of [
  [PROXY_DIR, 'proxy'],
  [DB_DIR, 'db'],
] as const) {
  cpSync(dir, join(pluginsDir, name), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })
}

let upstream: Upstream
test.before(async () => {
  upstream = await startUpstream('slow')
})
test.after(() => upstream.close())

async function stopWithFiveServers(env: Record<string, string>, priorities: Record<string, number> = {}) {
  const k = await spawnKernel({ args: ['--plugins', pluginsDir], env: { ADMIN_TOKEN: TOKEN, SHUTDOWN_TIMEOUT_MS: '8000', ...env } })
  const admin = adminClient(k.url)
  const urls: string[] = []
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    urls.push(await register(admin, { name, routes: [{ path: '/', targets: [upstream.url] }], ...(priorities[name] ? { priority: priorities[name] } : {}) }))
  }
  const before = upstream.inFlight()
  const inFlight = urls.flatMap((url) => [request(`${url}/slow?ms=700`), request(`${url}/slow?ms=700`)])
  await waitFor(() => upstream.inFlight() >= before + 10, { what: '10 requests in flight through 5 servers' })
  k.child.kill('SIGTERM')
  const [exit, answers] = await Promise.all([k.exited, Promise.all(inFlight)])
  const stopped = k.messages().flatMap((m) => m.match(/^proxy server '(\w)' stopped/)?.[1] ?? [])
  const phases = k
    .messages()
    .filter((m) => m.startsWith('shutdown phase 10.'))
    .map((m) => m.replace(/ done in \d+ ms/, ''))
  return { exit, answers, stopped, phases, k }
}

test('default order: last created stops first; in-flight requests complete', async () => {
  const { exit, answers, stopped, phases, k } = await stopWithFiveServers({})
  assert.is(exit.code, 0, k.stderr())
  assert.equal(
    answers.map((a) => a.status),
    Array(10).fill(200),
  )
  assert.equal(stopped, ['e', 'd', 'c', 'b', 'a'])
  assert.equal(phases, [
    'shutdown phase 10.993: plugin:proxy:server e',
    'shutdown phase 10.994: plugin:proxy:server d',
    'shutdown phase 10.995: plugin:proxy:server c',
    'shutdown phase 10.996: plugin:proxy:server b',
    'shutdown phase 10.997: plugin:proxy:server a',
    'shutdown phase 10.999: plugin:proxy:servers started during the stop',
  ])
  const order = k.messages().find((m) => m.startsWith('shutdown order: '))!
  assert.match(order, /10 Ingress \[http\] -> 10\.993 \[plugin:proxy:server e\] -> 10\.994 .* -> 10\.997 \[plugin:proxy:server a\]/)
  assert.is(k.stderr(), '')
  assert.not.match(k.lines.join('\n'), /\n\s+at |Unhandled|unhandled/)
})

test('PROXY_STOP_ORDER=creation with a priority: the prioritised server first, then creation order', async () => {
  const { exit, answers, stopped } = await stopWithFiveServers({ PROXY_STOP_ORDER: 'creation' }, { d: 5 })
  assert.is(exit.code, 0)
  assert.equal(
    answers.map((a) => a.status),
    Array(10).fill(200),
  )
  assert.equal(stopped, ['d', 'a', 'b', 'c', 'e'])
})

test.run()
