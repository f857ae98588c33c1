// The HTTP face of a scheduler: list jobs, and (with the admin token) trigger, pause, resume.
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { Scheduler } from './scheduler.ts'

export interface CronRoutesOptions {
  /** Guards the state-changing routes (the kernel's bearer check on the admin token). */
  requireAdmin: MiddlewareHandler
}

const MAX_NEXT_RUNS = 100

/** The 403 message while no admin token is configured. */
export const JOB_CONTROL_DISABLED = 'job control is disabled: set ADMIN_TOKEN to enable it'

/**
 * GET  /jobs                     every job: name, spec, timezone, status, nextRun, lastRun, durationMs, runs, failures...
 * GET  /jobs/:name?next=N        one job and its next N runs (default 5)
 * POST /jobs/:name/trigger       run now (Bearer admin token)
 * POST /jobs/:name/pause         (Bearer admin token)
 * POST /jobs/:name/resume        (Bearer admin token)
 */
export function cronRoutes(scheduler: Scheduler, options: CronRoutesOptions): Hono {
  const app = new Hono()
  const { requireAdmin } = options
  const unknown = (c: Context, name: string) => c.json({ error: `no job named ${JSON.stringify(name)}` }, 404)

  app.get('/jobs', (c) => c.json({ jobs: scheduler.list() }))

  app.get('/jobs/:name', (c) => {
    const name = c.req.param('name') ?? ''
    const job = scheduler.get(name)
    if (!job) return unknown(c, name)
    const raw = c.req.query('next') ?? '5'
    const count = Number(raw)
    if (!Number.isInteger(count) || count < 0 || count > MAX_NEXT_RUNS) {
      return c.json({ error: `next=${raw} must be a whole number from 0 to ${MAX_NEXT_RUNS}` }, 400)
    }
    return c.json({ job: job.info(), nextRuns: job.nextRuns(count).map((d) => d.toISOString()) })
  })

  app.post('/jobs/:name/trigger', requireAdmin, (c) => {
    const name = c.req.param('name') ?? ''
    const job = scheduler.get(name)
    if (!job) return unknown(c, name)
    const result = job.trigger()
    if (result.status === 'skipped') return c.json({ status: 'skipped', reason: result.reason, job: job.info() }, 409)
    // The run goes on in the background; its outcome shows in GET /jobs.
    if (result.status === 'started') void result.done
    return c.json({ status: result.status, job: job.info() }, 202)
  })

  app.post('/jobs/:name/pause', requireAdmin, (c) => {
    const name = c.req.param('name') ?? ''
    const job = scheduler.get(name)
    if (!job) return unknown(c, name)
    job.pause()
    return c.json({ job: job.info() })
  })

  app.post('/jobs/:name/resume', requireAdmin, (c) => {
    const name = c.req.param('name') ?? ''
    const job = scheduler.get(name)
    if (!job) return unknown(c, name)
    job.resume()
    return c.json({ job: job.info() })
  })

  return app
}
