// Registered servers survive a restart at the same addresses: in the servers file (replaced
// whole), or in PostgreSQL when DATABASE_URL is set.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestKernel } from '@armature/testing'
import { createTestDatabase } from '../../db/test/support.ts'
import { PLUGINS, TOKEN, adminClient, register, request, startUpstream, type Upstream } from './support.ts'

/** Registers kept, second and gone, re-routes second and deletes gone; answers kept's URL. */
async function registerPatchAndDelete(admin: ReturnType<typeof adminClient>, upstream: Upstream, priority: number): Promise<string> {
  const kept = await register(admin, { name: 'kept', routes: [{ path: '/k', targets: [upstream.url], strip: true }], priority })
  await register(admin, { name: 'second', routes: [{ path: '/', targets: [upstream.url] }] })
  await register(admin, { name: 'gone', routes: [{ path: '/', targets: [upstream.url] }] })
  assert.is((await admin.patch('second', { routes: [{ path: '/patched', targets: [upstream.url] }] })).status, 200)
  assert.is((await admin.remove('gone')).status, 200)
  return kept
}

/** What a restarted kernel must show after registerPatchAndDelete, and kept still forwarding. */
async function assertRestored(kernelUrl: string, kept: string, priority: number): Promise<void> {
  const servers = (await adminClient(kernelUrl).list()).body.servers
  assert.equal(
    servers.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
    ['kept:running', 'second:running'],
  )
  assert.is(servers[0].url, kept, 'the same address as registered')
  assert.is(servers[0].priority, priority)
  assert.equal(
    servers[1].routes.map((r: { path: string }) => r.path),
    ['/patched'],
  )
  const through = await request(`${kept}/k/again`)
  assert.is(through.status, 200)
  assert.is(through.json().url, '/again')
}

test('a restart restores the servers, their addresses and routes; deleted ones stay gone', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'proxy-data-'))
  const upstream = await startUpstream('kept')
  const env = { ADMIN_TOKEN: TOKEN, DATA_DIR: dataDir, DATABASE_URL: '' }
  try {
    const first = await startTestKernel({ plugins: PLUGINS, env })
    const kept = await registerPatchAndDelete(adminClient(first.url), upstream, 3)
    await first.stop()

    const file = join(dataDir, 'proxy', 'servers.json')
    const stored = JSON.parse(readFileSync(file, 'utf8'))
    assert.equal(
      stored.servers.map((s: { name: string }) => s.name),
      ['kept', 'second'],
    )
    assert.equal(
      readdirSync(join(dataDir, 'proxy')).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file is left',
    )

    const second = await startTestKernel({ plugins: PLUGINS, env })
    try {
      await assertRestored(second.url, kept, 3)
    } finally {
      await second.stop()
    }
  } finally {
    await upstream.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('an unreadable servers file is moved aside, not overwritten, and the proxy starts empty', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'proxy-data-'))
  mkdirSync(join(dataDir, 'proxy'), { recursive: true })
  writeFileSync(join(dataDir, 'proxy', 'servers.json'), '{ broken')
  try {
    const k = await startTestKernel({ plugins: PLUGINS, env: { ADMIN_TOKEN: TOKEN, DATA_DIR: dataDir, DATABASE_URL: '' } })
    try {
      assert.equal((await adminClient(k.url).list()).body.servers, [])
      const aside = readdirSync(join(dataDir, 'proxy')).find((f) => f.startsWith('servers.json.unreadable-'))
      assert.ok(aside, 'the broken file is kept beside')
      assert.is(readFileSync(join(dataDir, 'proxy', aside!), 'utf8'), '{ broken')
      assert.not.ok(existsSync(join(dataDir, 'proxy', 'servers.json')))
    } finally {
      await k.stop()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('a stored server the current options refuse is kept on disk and shown as failed', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'proxy-data-'))
  mkdirSync(join(dataDir, 'proxy'), { recursive: true })
  const record = { name: 'outside', listen: { port: 0, host: '127.0.0.1' }, routes: [{ path: '/', targets: ['http://10.9.9.9'], strip: false }], created: new Date().toISOString() }
  writeFileSync(join(dataDir, 'proxy', 'servers.json'), JSON.stringify({ version: 1, servers: [record] }))
  try {
    const k = await startTestKernel({ plugins: PLUGINS, env: { ADMIN_TOKEN: TOKEN, DATA_DIR: dataDir, DATABASE_URL: '' } })
    const admin = adminClient(k.url)
    try {
      const shown = (await admin.get('outside')).body
      assert.is(shown.state, 'failed')
      assert.match(shown.error, /not allowed/)
      await register(admin, { name: 'other', routes: [{ path: '/', targets: ['http://127.0.0.1:9'] }] })
      const names = JSON.parse(readFileSync(join(dataDir, 'proxy', 'servers.json'), 'utf8')).servers.map((s: { name: string }) => s.name)
      assert.equal(names, ['outside', 'other'], 'a later save keeps the refused record')
      assert.is((await admin.remove('outside')).status, 200)
    } finally {
      await k.stop()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('with DATABASE_URL the servers are kept in PostgreSQL and come back after a restart', async () => {
  const database = await createTestDatabase('armature_proxy_test')
  const dataDir = mkdtempSync(join(tmpdir(), 'proxy-data-'))
  const upstream = await startUpstream('pg')
  const env = { ADMIN_TOKEN: TOKEN, DATA_DIR: dataDir, DATABASE_URL: database.url }
  try {
    const first = await startTestKernel({ plugins: PLUGINS, env })
    let kept: string
    try {
      kept = await registerPatchAndDelete(adminClient(first.url), upstream, 4)
    } finally {
      await first.stop()
    }
    assert.not.ok(existsSync(join(dataDir, 'proxy', 'servers.json')), 'no servers file is written')

    const second = await startTestKernel({ plugins: PLUGINS, env })
    try {
      await assertRestored(second.url, kept, 4)
    } finally {
      await second.stop()
    }
  } finally {
    await upstream.close()
    rmSync(dataDir, { recursive: true, force: true })
    await database.drop()
  }
})

test.run()
