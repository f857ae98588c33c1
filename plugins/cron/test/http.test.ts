// Boots a real kernel with the cron plugin and a plugin that schedules jobs through it, and
// talks to it over HTTP.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTestKernel, waitFor } from '@armature/testing'

const CRON_DIR = fileURLToPath(new URL('..', import.meta.url))
const auth = { authorization: 'Bearer secret' }

// A plugin that uses the scheduler the cron plugin provides. It records what its jobs saw on
// globalThis, which the test shares with the in-process kernel.
const DEMO = `
export default {
  name: 'cron-demo',
  uses: ['cron'],
  setup(ctx) {
    const seen = (globalThis.__cronDemo = { ticks: 0, slow: [] })
    const scheduler = ctx.use('cron')
    scheduler.schedule('tick', '200ms', () => { seen.ticks++ })
    scheduler.schedule('nightly', '0 3 * * *', () => {}, { timezone: 'Europe/Berlin' })
    scheduler.schedule('slow', '1h', ({ signal }) => new Promise((resolve) => {
      seen.slow.push('started')
      const timer = setTimeout(() => { seen.slow.push('finished'); resolve() }, 300)
      signal.addEventListener('abort', () => { clearTimeout(timer); seen.slow.push('aborted'); resolve() })
    }))
  },
}
`

interface Seen {
  ticks: number
  slow: string[]
}
const seen = () => (globalThis as unknown as { __cronDemo: Seen }).__cronDemo

function demoPlugin(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'armature-cron-demo-'))
  const file = join(dir, 'cron-demo.ts')
  writeFileSync(file, DEMO)
  return { file, dir }
}

type Jobs = { jobs: { name: string; status: string; runs: number; nextRun: string | null; timezone: string | null; spec: string }[] }

test('jobs over HTTP: list, trigger, pause, resume, metrics, and shutdown waits for a run', async () => {
  const demo = demoPlugin()
  const k = await startTestKernel({ plugins: [CRON_DIR, demo.file], env: { ADMIN_TOKEN: 'secret' } })
  try {
    const list = async () => (await (await fetch(`${k.url}/cron/jobs`)).json()) as Jobs
    const { jobs } = await list()
    assert.equal(jobs.map((j) => j.name).sort(), ['nightly', 'slow', 'tick'])
    const nightly = jobs.find((j) => j.name === 'nightly')!
    assert.is(nightly.spec, '0 3 * * *')
    assert.is(nightly.timezone, 'Europe/Berlin')
    assert.ok(Date.parse(nightly.nextRun!) > Date.now())

    await waitFor(() => seen().ticks >= 2, { what: 'the 200ms job to run twice' })

    assert.is((await fetch(`${k.url}/cron/jobs/nightly/trigger`, { method: 'POST' })).status, 401)
    assert.is((await fetch(`${k.url}/cron/jobs/nightly/trigger`, { method: 'POST', headers: { authorization: 'Bearer x' } })).status, 401)
    assert.is((await fetch(`${k.url}/cron/jobs/missing/trigger`, { method: 'POST', headers: auth })).status, 404)
    assert.is((await fetch(`${k.url}/cron/jobs/nightly/trigger`, { method: 'POST', headers: auth })).status, 202)
    await waitFor(async () => (await list()).jobs.find((j) => j.name === 'nightly')!.runs === 1, { what: 'the triggered run' })

    const paused = await fetch(`${k.url}/cron/jobs/tick/pause`, { method: 'POST', headers: auth })
    assert.is(paused.status, 200)
    assert.is(((await paused.json()) as { job: { status: string } }).job.status, 'paused')
    const resumed = await fetch(`${k.url}/cron/jobs/tick/resume`, { method: 'POST', headers: auth })
    assert.is(((await resumed.json()) as { job: { status: string } }).job.status, 'scheduled')

    const metrics = await (await fetch(`${k.url}/metrics`)).text()
    assert.match(metrics, /armature_cron_runs_total\{job="nightly",trigger="manual",result="ok"\} 1/)
    assert.match(metrics, /armature_cron_lateness_seconds_bucket\{[^}]*job="tick"/)

    // A run in progress when shutdown starts gets to finish.
    assert.is((await fetch(`${k.url}/cron/jobs/slow/trigger`, { method: 'POST', headers: auth })).status, 202)
    await waitFor(() => seen().slow.includes('started'), { what: 'the slow run to start' })
    await k.stop()
    assert.equal(seen().slow, ['started', 'finished'])
  } finally {
    await k.stop()
    rmSync(demo.dir, { recursive: true, force: true })
  }
})

test('a run still going when the shutdown timeout ends has its signal aborted', async () => {
  const demo = demoPlugin()
  const k = await startTestKernel({ plugins: [CRON_DIR, demo.file], env: { ADMIN_TOKEN: 'secret', CRON_SHUTDOWN_TIMEOUT_MS: '50' }, terminalLogLevel: 'error' })
  try {
    assert.is((await fetch(`${k.url}/cron/jobs/slow/trigger`, { method: 'POST', headers: auth })).status, 202)
    await waitFor(() => seen().slow.includes('started'), { what: 'the slow run to start' })
    await k.stop()
    assert.equal(seen().slow, ['started', 'aborted'])
  } finally {
    await k.stop()
    rmSync(demo.dir, { recursive: true, force: true })
  }
})

test('without ADMIN_TOKEN the control routes answer 403', async () => {
  const demo = demoPlugin()
  const k = await startTestKernel({ plugins: [CRON_DIR, demo.file], env: { ADMIN_TOKEN: '' } })
  try {
    const res = await fetch(`${k.url}/cron/jobs/nightly/trigger`, { method: 'POST', headers: auth })
    assert.is(res.status, 403)
    assert.match(((await res.json()) as { error: string }).error, 'set ADMIN_TOKEN to enable')
    assert.is((await fetch(`${k.url}/cron/jobs`)).status, 200)
  } finally {
    await k.stop()
    rmSync(demo.dir, { recursive: true, force: true })
  }
})

test.run()
