// A hot reload of the plugin hands its servers to the new generation at the same addresses.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel, waitFor } from '@armature/testing'
import { PLUGINS, TOKEN, adminClient, register, request, startUpstream } from './support.ts'

test('after a reload the registered servers answer again at their addresses', async () => {
  const upstream = await startUpstream('u')
  const k = await startTestKernel({ plugins: PLUGINS, env: { ADMIN_TOKEN: TOKEN } })
  const admin = adminClient(k.url)
  try {
    const url = await register(admin, { name: 'kept', routes: [{ path: '/', targets: [upstream.url] }] })
    const reloaded = await fetch(`${k.url}/_armature/plugins/proxy/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
    assert.is(reloaded.status, 200, await reloaded.text())
    await waitFor(async () => (await admin.get('kept')).body.state === 'running', { what: 'the new generation to start the stored server' })
    assert.is((await admin.get('kept')).body.url, url)
    const through = await waitFor(() => request(`${url}/again`).then((r) => (r.status === 200 ? r.json() : undefined)), { what: 'a request through the restored server' })
    assert.is(through.upstream, 'u')
  } finally {
    await k.stop()
    await upstream.close()
  }
})

test.run()
