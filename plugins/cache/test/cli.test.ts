// The CLI against a running service (over HTTP) and offline (a data folder, a dump file).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ARMATURE_BIN, startTestKernel, type TestKernel } from '@armature/testing'
import { runCli } from '../src/cli/run.ts'
import { decodeImage } from '../src/image.ts'
import { tempDir } from './support/tmp.ts'

const PLUGIN = fileURLToPath(new URL('..', import.meta.url))
const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const exec = promisify(execFile)

async function cli(...argv: string[]) {
  let out = ''
  let err = ''
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t) })
  return { code, out, err }
}

let k: TestKernel
let dataRoot: string

test.before(async () => {
  dataRoot = tempDir('cli')
  k = await startTestKernel({ plugins: [PLUGIN], env: { DATA_DIR: dataRoot, CACHE_FSYNC: 'always', CACHE_REDIS_URL: '' } })
  const put = (path: string, body: unknown) => fetch(`${k.url}/cache${path}`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  await put('/users/ann', { name: 'Ann', roles: ['admin'] })
  await put('/users/bob', { name: 'Bob' })
  await put('/orders/o-1', { total: 42 })
})

test.after(async () => {
  await k.stop()
})

test('ls, get, stats as tables against the running service', async () => {
  const ls = await cli('ls', '--url', k.url)
  assert.is(ls.code, 0, ls.err)
  assert.match(ls.out, /^COLLECTION\s+DOCUMENTS\n-+\s+-+\norders\s+1\nusers\s+2\n$/)
  const users = await cli('ls', 'users', '--url', k.url)
  assert.match(users.out, /^ID\s+VERSION\s+ETAG\s+UPDATED\s+EXPIRES\s+VALUE\n/)
  assert.match(users.out, /\nann\s+1\s+"1"\s+\S+Z\s+-\s+\{"name":"Ann","roles":\["admin"\]\}\n/)
  const paged = await cli('ls', 'users', '--limit', '1', '--url', k.url)
  assert.match(paged.out, /\(more: --cursor \S+\)/)
  const get = await cli('get', 'users', 'bob', '--url', k.url)
  assert.match(get.out, /id\s+bob\n/)
  assert.match(get.out, /"name": "Bob"/)
  const stats = await cli('stats', '--url', `${k.url}/cache`)
  assert.match(stats.out, /seq\s+3\n/)
  assert.match(stats.out, /documents\s+3\n/)
  assert.match(stats.out, /fsync\s+always\n/)
  assert.match(stats.out, /redis\s+not configured\n/)
})

test('--json output is parseable and complete', async () => {
  const ls = JSON.parse((await cli('ls', '--json', '--url', k.url)).out)
  assert.equal(ls, {
    collections: [
      { name: 'orders', documents: 1 },
      { name: 'users', documents: 2 },
    ],
  })
  const users = JSON.parse((await cli('ls', 'users', '--json', '--url', k.url)).out)
  assert.equal(
    users.items.map((d: { id: string }) => d.id),
    ['ann', 'bob'],
  )
  const doc = JSON.parse((await cli('get', 'orders', 'o-1', '--json', '--url', k.url)).out)
  assert.equal(doc.value, { total: 42 })
  assert.is(doc.etag, '"3"')
  const stats = JSON.parse((await cli('stats', '--json', '--url', k.url)).out)
  assert.is(stats.seq, 3)
  assert.is(stats.restore.source, 'empty')
})

test('dump --out over HTTP, then every command offline from the dump and from the data folder', async () => {
  const file = join(tempDir('cli'), 'store.json')
  const dumped = await cli('dump', '--out', file, '--url', k.url)
  assert.is(dumped.code, 0, dumped.err)
  assert.match(dumped.out, /wrote 3 documents at seq 3 to /)
  assert.is(decodeImage(readFileSync(file, 'utf8'), file).seq, 3)

  for (const path of [file, join(dataRoot, 'cache')]) {
    const ls = await cli('ls', '--file', path)
    assert.match(ls.out, /orders\s+1\nusers\s+2\n/, path)
    const doc = JSON.parse((await cli('get', 'users', 'ann', '--json', '--file', path)).out)
    assert.equal(doc.value, { name: 'Ann', roles: ['admin'] }, path)
    const stats = await cli('stats', '--file', path)
    assert.match(stats.out, /seq\s+3\n/, path)
    assert.match(stats.out, path === file ? /source\s+dump file / : /source\s+data folder .*3 mutations replayed/, path)
  }
  const again = join(tempDir('cli'), 'again.json')
  assert.is((await cli('dump', '--out', again, '--file', join(dataRoot, 'cache'))).code, 0)
  assert.equal(JSON.parse(readFileSync(again, 'utf8')).documents.length, 3)
})

test('errors: missing document, unreachable service, bad usage', async () => {
  const missing = await cli('get', 'users', 'nobody', '--url', k.url)
  assert.is(missing.code, 1)
  assert.match(missing.err, /users\/nobody not found/)
  const down = await cli('ls', '--url', 'http://127.0.0.1:1')
  assert.is(down.code, 1)
  assert.match(down.err, /cannot reach http:\/\/127\.0\.0\.1:1\/cache/)
  const bad = await cli('ls', 'Bad Name', '--url', k.url)
  assert.is(bad.code, 1)
  assert.match(bad.err, /400 .*invalid collection name/)
  assert.is((await cli('frobnicate')).code, 2)
  assert.is((await cli('dump', '--url', k.url)).code, 2)
  assert.is((await cli('ls', '--file', '/nonexistent/path')).code, 1)
})

test('runs alone and through `armature cache`', async () => {
  const alone = await exec(process.execPath, ['--import', 'tsx', join(PLUGIN, 'cli.ts'), 'ls', '--json', '--url', k.url], { cwd: REPO })
  assert.is(JSON.parse(alone.stdout).collections.length, 2)
  const viaKernel = await exec(process.execPath, [ARMATURE_BIN, 'cache', 'ls', 'users', '--url', k.url], { cwd: REPO })
  assert.match(viaKernel.stdout, /\nbob\s+1\s+"2"/)
})

test('without --url, `armature cache` reads the service on PORT, as `armature plugins` does', async () => {
  const { ARMATURE_CACHE_URL: _, ...env } = process.env
  const viaPort = await exec(process.execPath, [ARMATURE_BIN, 'cache', 'ls', '--json'], { cwd: REPO, env: { ...env, PORT: new URL(k.url).port } })
  assert.equal(
    JSON.parse(viaPort.stdout).collections.map((c: { name: string }) => c.name),
    ['orders', 'users'],
  )
})

test.run()
