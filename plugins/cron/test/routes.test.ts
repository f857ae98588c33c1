import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { VirtualClock } from '../src/clock.ts'
import { requireBearer } from '@armature/core'
import { cronRoutes, JOB_CONTROL_DISABLED } from '../src/routes.ts'
import { Scheduler } from '../src/scheduler.ts'

const T0 = Date.parse('2024-01-15T10:00:00Z')
const auth = { authorization: 'Bearer secret' }

function setup(options: { adminToken?: string } = { adminToken: 'secret' }) {
  const clock = new VirtualClock(T0)
  const scheduler = new Scheduler({ clock })
  let release: (() => void) | undefined
  scheduler.schedule('report', '0 6 * * MON-FRI', () => new Promise<void>((r) => (release = r)), { timezone: 'Europe/Berlin' })
  scheduler.schedule('tick', '30s', () => {})
  const requireAdmin = requireBearer(options.adminToken, { disabled: JOB_CONTROL_DISABLED })
  return { clock, scheduler, app: cronRoutes(scheduler, { requireAdmin }), release: () => release?.() }
}

test('GET /jobs lists every job with its state', async () => {
  const { app } = setup()
  const res = await app.request('/jobs')
  assert.is(res.status, 200)
  const { jobs } = (await res.json()) as { jobs: Record<string, unknown>[] }
  assert.equal(
    jobs.map((j) => j.name),
    ['report', 'tick'],
  )
  const report = jobs[0]!
  for (const key of ['name', 'spec', 'timezone', 'nextRun', 'lastRun', 'status', 'durationMs', 'runs', 'failures']) assert.ok(key in report, key)
  assert.is(report.spec, '0 6 * * MON-FRI')
  assert.is(report.timezone, 'Europe/Berlin')
  assert.is(report.nextRun, '2024-01-16T05:00:00.000Z')
  assert.is(report.status, 'scheduled')
})

test('GET /jobs/:name gives the next runs', async () => {
  const { app } = setup()
  const res = await app.request('/jobs/report?next=3')
  const body = (await res.json()) as { nextRuns: string[] }
  assert.equal(body.nextRuns, ['2024-01-16T05:00:00.000Z', '2024-01-17T05:00:00.000Z', '2024-01-18T05:00:00.000Z'])
  assert.is((await app.request('/jobs/report?next=x')).status, 400)
  assert.is((await app.request('/jobs/nope')).status, 404)
})

test('control routes need the bearer token', async () => {
  const { app } = setup()
  for (const action of ['trigger', 'pause', 'resume']) {
    const missing = await app.request(`/jobs/report/${action}`, { method: 'POST' })
    assert.is(missing.status, 401, action)
    assert.is(missing.headers.get('www-authenticate'), 'Bearer')
    const wrong = await app.request(`/jobs/report/${action}`, { method: 'POST', headers: { authorization: 'Bearer nope' } })
    assert.is(wrong.status, 401, action)
    const longer = await app.request(`/jobs/report/${action}`, { method: 'POST', headers: { authorization: 'Bearer secret-and-more' } })
    assert.is(longer.status, 401, action)
  }
  // The scheme is case-insensitive (RFC 9110 11.1).
  assert.is((await app.request('/jobs/report/pause', { method: 'POST', headers: { authorization: 'bearer secret' } })).status, 200)
  // Unknown jobs are not revealed without the token.
  assert.is((await app.request('/jobs/nope/trigger', { method: 'POST' })).status, 401)
  assert.is((await app.request('/jobs/nope/trigger', { method: 'POST', headers: auth })).status, 404)
})

test('without an admin token the control routes answer 403', async () => {
  const { app } = setup({})
  const res = await app.request('/jobs/report/trigger', { method: 'POST', headers: auth })
  assert.is(res.status, 403)
  assert.match(((await res.json()) as { error: string }).error, 'set ADMIN_TOKEN to enable')
  assert.is((await app.request('/jobs')).status, 200)
})

test('trigger, pause and resume', async () => {
  const { app, scheduler, release, clock } = setup()
  const started = await app.request('/jobs/report/trigger', { method: 'POST', headers: auth })
  assert.is(started.status, 202)
  assert.is(((await started.json()) as { status: string }).status, 'started')
  assert.is(scheduler.get('report')!.status, 'running')
  const again = await app.request('/jobs/report/trigger', { method: 'POST', headers: auth })
  assert.is(again.status, 409)
  release()
  await clock.advance(0)
  assert.is(scheduler.get('report')!.info().runs, 1)

  const paused = await app.request('/jobs/tick/pause', { method: 'POST', headers: auth })
  assert.is(paused.status, 200)
  assert.is(((await paused.json()) as { job: { status: string; nextRun: null } }).job.status, 'paused')
  const resumed = await app.request('/jobs/tick/resume', { method: 'POST', headers: auth })
  assert.is(((await resumed.json()) as { job: { status: string } }).job.status, 'scheduled')
})

test.run()
