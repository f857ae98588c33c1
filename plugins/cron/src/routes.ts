// The HTTP face of a scheduler: list jobs, and (with the admin token) trigger, pause, resume.
import { timingSafeEqual } from 'node:crypto'
import { Hono, type Context, type Next } from 'hono'
import type { Scheduler } from './scheduler.ts'

export interface CronRoutesOptions {
  /** Bearer token for the state-changing routes; when unset they answer 403. */
  adminToken?: string | undefined
}

const MAX_NEXT_RUNS = 100

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * GET  /jobs                     every job: name, spec, timezone, status, nextRun, lastRun, durationMs, runs, failures...
 * GET  /jobs/:name?next=N        one job and its next N runs (default 5)
 * POST /jobs/:name/trigger       run now (Bearer admin token)
 * POST /jobs/:name/pause         (Bearer admin token)
 * POST /jobs/:name/resume        (Bearer admin token)
 */
export function cronRoutes(scheduler: Scheduler, options: CronRoutesOptions = {}): Hono {
  const app = new Hono()
  const token = options.adminToken

  const requireAdmin = async (c: Context, next: Next) => {
    if (!token) return c.json({ error: 'job control is disabled: set ADMIN_TOKEN to enable it' }, 403)
    const header = c.req.header('authorization') ?? ''
    const given = header.startsWith('Bearer ') ? header.slice(7) : ''
    if (!safeEqual(given, token)) return c.json({ error: 'missing or wrong bearer token' }, 401, { 'www-authenticate': 'Bearer' })
    await next()
  }
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
