import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MAX_TIMER_MS, VirtualClock } from '../src/clock.ts'
import { JobError, RunTimeoutError, ShutdownError, CronSyntaxError } from '../src/errors.ts'
import { Scheduler, type JobContext, type SchedulerMetrics } from '../src/scheduler.ts'

const T0 = Date.parse('2024-01-15T10:00:00Z')
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z')

function setup(start: number = T0) {
  const clock = new VirtualClock(start)
  const scheduler = new Scheduler({ clock })
  /** A job body that takes `ms` of virtual time and records its runs. */
  const starts: { at: number; scheduledAt: number; trigger: string }[] = []
  let concurrent = 0
  let maxConcurrent = 0
  const work =
    (ms: number) =>
    (ctx: JobContext): Promise<void> => {
      starts.push({ at: clock.now() - start, scheduledAt: ctx.scheduledAt.getTime() - start, trigger: ctx.trigger })
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      return new Promise<void>((resolve) => clock.setTimer(resolve, ms)).finally(() => concurrent--)
    }
  return { clock, scheduler, starts, work, max: () => maxConcurrent }
}

test('an interval job runs at absolute times: timer lateness does not accumulate', async () => {
  const { clock, scheduler, starts, work } = setup()
  clock.lateness = 7
  scheduler.schedule('tick', '1s', work(0))
  await clock.advance(10_050)
  assert.equal(
    starts.map((s) => s.at),
    [1007, 2007, 3007, 4007, 5007, 6007, 7007, 8007, 9007, 10007],
  )
  assert.equal(
    starts.map((s) => s.scheduledAt),
    [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000],
  )
})

test('occurrences missed while the process stalled are not replayed', async () => {
  const { clock, scheduler, starts, work } = setup()
  clock.lateness = () => 3500
  scheduler.schedule('tick', 1000, work(0))
  await clock.advance(4600)
  // Fired at 4500 for 1000; 2000-4000 are gone; the next one is 5000 (+3500).
  assert.equal(
    starts.map((s) => [s.scheduledAt, s.at]),
    [[1000, 4500]],
  )
  assert.is(scheduler.get('tick')!.nextRun!.getTime() - T0, 5000)
})

test('a cron job in a timezone runs at the DST transition, once', async () => {
  const start = Date.parse('2024-03-10T06:30:00Z')
  const { clock, scheduler, starts, work } = setup(start)
  scheduler.schedule('ny', '*/20 * * * *', work(0), { timezone: 'America/New_York' })
  await clock.advance(60 * 60_000)
  assert.equal(
    starts.map((s) => iso(s.at + start)),
    ['2024-03-10T06:40:00Z', '2024-03-10T07:00:00Z', '2024-03-10T07:20:00Z'],
  )
})

test('waits longer than the timer limit are chunked', async () => {
  const start = Date.parse('2024-03-01T00:00:00Z')
  const { clock, scheduler, starts, work } = setup(start)
  // VirtualClock throws on delays over MAX_TIMER_MS, as a real timer would misfire.
  scheduler.schedule('leap', '0 0 0 29 2 *', work(0), { timezone: 'UTC' })
  assert.is(scheduler.get('leap')!.nextRun!.toISOString(), '2028-02-29T00:00:00.000Z')
  assert.ok(clock.nextAt! - start <= MAX_TIMER_MS)
  await clock.advanceTo(Date.parse('2028-02-29T00:00:00.500Z'))
  assert.equal(
    starts.map((s) => iso(s.at + start)),
    ['2028-02-29T00:00:00Z'],
  )
})

test('overrun skip: an occurrence during a run is dropped', async () => {
  const { clock, scheduler, starts, work } = setup()
  scheduler.schedule('slow', '1s', work(2500))
  await clock.advance(10_000)
  assert.equal(
    starts.map((s) => s.at),
    [1000, 4000, 7000, 10000],
  )
  assert.is(scheduler.get('slow')!.info().skipped, 6)
})

test('overrun queue-one: one occurrence waits, runs right after, the rest are dropped', async () => {
  const { clock, scheduler, starts, work, max } = setup()
  scheduler.schedule('slow', '1s', work(2500), { overrun: 'queue-one' })
  await clock.advance(9000)
  // 1000 runs to 3500; 2000 queued, 3000 dropped; 2000 runs 3500-6000; 4000 queued, 5000 dropped;
  // at 6000 the run ends first (its timer is older) so 4000 starts, then 6000 is queued and
  // 7000, 8000 are dropped.
  assert.equal(
    starts.map((s) => [s.scheduledAt, s.at]),
    [
      [1000, 1000],
      [2000, 3500],
      [4000, 6000],
      [6000, 8500],
    ],
  )
  assert.is(max(), 1)
  assert.is(scheduler.get('slow')!.info().skipped, 4)
})

test('overrun parallel: runs overlap', async () => {
  const { clock, scheduler, starts, work, max } = setup()
  scheduler.schedule('slow', '1s', work(2500), { overrun: 'parallel' })
  await clock.advance(5000)
  assert.equal(
    starts.map((s) => s.at),
    [1000, 2000, 3000, 4000, 5000],
  )
  assert.is(max(), 3)
})

test('maxRuns: the job is done after that many scheduled runs', async () => {
  const { clock, scheduler, starts, work } = setup()
  const job = scheduler.schedule('thrice', '1s', work(0), { maxRuns: 3 })
  assert.equal(
    job.nextRuns(10).map((d) => d.getTime() - T0),
    [1000, 2000, 3000],
  )
  await clock.advance(10_000)
  assert.equal(
    starts.map((s) => s.at),
    [1000, 2000, 3000],
  )
  assert.is(job.status, 'done')
  assert.is(job.nextRun, null)
  assert.is(clock.pending, 0)
})

test('startAt and stopAt bound the runs; an interval counts from startAt', async () => {
  const { clock, scheduler, starts, work } = setup()
  const job = scheduler.schedule('window', '1s', work(0), { startAt: T0 + 5500, stopAt: new Date(T0 + 8600) })
  assert.equal(
    job.nextRuns(10).map((d) => d.getTime() - T0),
    [5500, 6500, 7500, 8500],
  )
  await clock.advance(20_000)
  assert.equal(
    starts.map((s) => s.at),
    [5500, 6500, 7500, 8500],
  )
  assert.is(job.status, 'done')
  const cron = scheduler.schedule('cron-window', '*/10 * * * * *', work(0), { startAt: new Date(T0 + 25_000).toISOString(), timezone: 'UTC' })
  assert.equal(
    cron.nextRuns(2).map((d) => d.getTime() - T0 + 20_000),
    [50_000, 60_000],
  )
})

test('pause stops runs; resume continues from now without catching up', async () => {
  const { clock, scheduler, starts, work } = setup()
  scheduler.schedule('p', '1s', work(0))
  await clock.advance(2500)
  scheduler.pause('p')
  assert.is(scheduler.get('p')!.status, 'paused')
  assert.is(scheduler.get('p')!.info().nextRun, null)
  await clock.advance(5000)
  scheduler.resume('p')
  await clock.advance(2000)
  assert.equal(
    starts.map((s) => s.at),
    [1000, 2000, 8000, 9000],
  )
})

test('trigger runs now and follows the overrun policy', async () => {
  const { clock, scheduler, starts, work } = setup()
  scheduler.schedule('t', '1h', work(1000))
  const first = scheduler.trigger('t')
  assert.is(first.status, 'started')
  assert.equal(scheduler.trigger('t'), { status: 'skipped', reason: 'a run is in progress' })
  await clock.advance(1000)
  const outcome = first.status === 'started' ? await first.done : null
  assert.equal(outcome, { ok: true, timedOut: false, durationMs: 1000 })
  assert.equal(starts, [{ at: 0, scheduledAt: 0, trigger: 'manual' }])
  // A paused job can still be triggered.
  scheduler.pause('t')
  assert.is(scheduler.trigger('t').status, 'started')
  const q = setup()
  q.scheduler.schedule('q', '1h', q.work(1000), { overrun: 'queue-one' })
  q.scheduler.trigger('q')
  assert.equal(q.scheduler.trigger('q'), { status: 'queued' })
  await q.clock.advance(2500)
  assert.equal(
    q.starts.map((s) => s.at),
    [0, 1000],
  )
})

test('failures: a throwing or rejecting job is counted, and the schedule goes on', async () => {
  const { clock, scheduler } = setup()
  let n = 0
  scheduler.schedule('flaky', '1s', () => {
    n++
    if (n === 1) throw new Error('sync boom')
    if (n === 2) return Promise.reject(new Error('async boom'))
  })
  await clock.advance(3000)
  const info = scheduler.get('flaky')!.info()
  assert.is(info.runs, 3)
  assert.is(info.failures, 2)
  assert.is(info.lastError, null)
  await clock.advance(0)
  scheduler.schedule('bad', '1s', () => Promise.reject(new Error('nope')))
  await clock.advance(1000)
  assert.is(scheduler.get('bad')!.info().lastError, 'nope')
})

test('timeoutMs: the run fails and its signal aborts with RunTimeoutError', async () => {
  const { clock, scheduler } = setup()
  let reason: unknown
  scheduler.schedule(
    'hang',
    '1h',
    (ctx) => {
      ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason))
      return new Promise(() => {})
    },
    { timeoutMs: 500 },
  )
  const result = scheduler.trigger('hang')
  await clock.advance(500)
  assert.instance(reason, RunTimeoutError)
  const outcome = result.status === 'started' ? await result.done : null
  assert.is(outcome?.timedOut, true)
  const info = scheduler.get('hang')!.info()
  assert.is(info.failures, 1)
  assert.is(info.status, 'scheduled')
  assert.match(info.lastError!, /exceeded its timeout of 500 ms/)
})

test('shutdown waits for a running job, and starts no new run', async () => {
  const { clock, scheduler, starts, work } = setup()
  scheduler.schedule('long', '1s', work(3000))
  await clock.advance(1000)
  let report: unknown
  const stopping = scheduler.stop(5000).then((r) => (report = r))
  await clock.advance(2999)
  assert.is(report, undefined)
  assert.is(scheduler.get('long')!.status, 'running')
  await clock.advance(1)
  await stopping
  assert.equal(report, { finished: 1, aborted: [] })
  assert.is(scheduler.get('long')!.status, 'stopped')
  await clock.advance(10_000)
  assert.is(starts.length, 1)
  assert.equal(scheduler.trigger('long'), { status: 'skipped', reason: 'the scheduler is stopping' })
  assert.throws(() => scheduler.schedule('late', '1s', work(0)), /stopping/)
})

test('shutdown aborts the signal of a run still going when the grace period ends', async () => {
  const { clock, scheduler } = setup()
  let reason: unknown
  scheduler.schedule(
    'stubborn',
    '1s',
    (ctx) =>
      new Promise<void>((resolve) => {
        ctx.signal.addEventListener('abort', () => {
          reason = ctx.signal.reason
          resolve()
        })
      }),
  )
  await clock.advance(1000)
  const stopping = scheduler.stop(2000)
  await clock.advance(1999)
  assert.is(reason, undefined)
  await clock.advance(1)
  assert.equal(await stopping, { finished: 0, aborted: ['stubborn'] })
  assert.instance(reason, ShutdownError)
})

test('shutdown with nothing running resolves at once', async () => {
  const { scheduler, work } = setup()
  scheduler.schedule('idle', '1h', work(0))
  assert.equal(await scheduler.stop(5000), { finished: 0, aborted: [] })
})

test('jitter delays each start; scheduledAt stays on the occurrence', async () => {
  const clock = new VirtualClock(T0)
  const scheduler = new Scheduler({ clock, random: () => 0.5 })
  const seen: number[][] = []
  scheduler.schedule('j', '1s', (ctx) => void seen.push([clock.now() - T0, ctx.scheduledAt.getTime() - T0]), { jitter: '200ms' })
  await clock.advance(3200)
  assert.equal(seen, [
    [1100, 1000],
    [2100, 2000],
    [3100, 3000],
  ])
})

test('metrics: runs, failures, skipped, lateness and duration', async () => {
  const calls: string[] = []
  const sink = (kind: string) => ({
    inc: (labels: Record<string, string>) => void calls.push(`${kind} ${JSON.stringify(labels)}`),
    observe: (labels: Record<string, string>, v: number) => void calls.push(`${kind} ${JSON.stringify(labels)} ${v}`),
  })
  const metrics: SchedulerMetrics = { runs: sink('runs'), failures: sink('failures'), skipped: sink('skipped'), lateness: sink('lateness'), duration: sink('duration') }
  const clock = new VirtualClock(T0)
  clock.lateness = 20
  const scheduler = new Scheduler({ clock, metrics })
  scheduler.schedule('m', '1s', () => Promise.reject(new Error('x')))
  await clock.advance(1020)
  assert.equal(calls, ['lateness {"job":"m"} 0.02', 'runs {"job":"m","trigger":"schedule","result":"error"}', 'duration {"job":"m"} 0', 'failures {"job":"m"}'])
})

test('invalid jobs are refused with a clear error', () => {
  const { scheduler, work } = setup()
  scheduler.schedule('a', '1s', work(0))
  assert.throws(
    () => scheduler.schedule('a', '1s', work(0)),
    (e: unknown) => e instanceof JobError && /already scheduled/.test(String(e)),
  )
  assert.throws(() => scheduler.schedule('has space', '1s', work(0)), /must match/)
  assert.throws(
    () => scheduler.schedule('b', '0 0 32 * *', work(0)),
    (e: unknown) => e instanceof CronSyntaxError && (e as Error).message === 'day-of-month: 32 is out of range 1-31',
  )
  assert.throws(() => scheduler.schedule('c', '0 0 30 2 *', work(0)), /never matches a date/)
  assert.throws(() => scheduler.schedule('d', '1s', work(0), { overrun: 'wait' as 'skip' }), /overrun "wait" must be one of skip, queue-one, parallel/)
  assert.throws(() => scheduler.schedule('e', '1s', work(0), { maxRuns: 0 }), /maxRuns 0/)
  assert.throws(() => scheduler.schedule('f', '1s', work(0), { startAt: 'soon' }), /startAt "soon" is not a valid date/)
  assert.throws(() => scheduler.schedule('g', '1s', work(0), { startAt: T0 + 10, stopAt: T0 }), /stopAt .* is before startAt/)
  assert.throws(() => scheduler.schedule('h', '* * * * *', work(0), { timezone: 'Nowhere/Land' }), /Nowhere\/Land/)
  assert.throws(() => scheduler.pause('zzz'), /no job named "zzz"/)
})

test('list() reports every job; remove() stops scheduling', async () => {
  const { clock, scheduler, starts, work } = setup()
  scheduler.schedule('one', '1s', work(0))
  scheduler.schedule('two', '0 12 * * *', work(0), { timezone: 'Europe/Berlin' })
  await clock.advance(1000)
  const [one, two] = scheduler.list()
  assert.equal(
    { ...one, durationMs: one!.durationMs },
    {
      name: 'one',
      spec: '1s',
      kind: 'interval',
      timezone: null,
      status: 'scheduled',
      overrun: 'skip',
      nextRun: new Date(T0 + 2000).toISOString(),
      lastRun: new Date(T0 + 1000).toISOString(),
      durationMs: 0,
      runs: 1,
      failures: 0,
      skipped: 0,
      lastError: null,
    },
  )
  assert.is(two!.nextRun, '2024-01-15T11:00:00.000Z')
  assert.is(two!.timezone, 'Europe/Berlin')
  assert.ok(scheduler.remove('one'))
  await clock.advance(5000)
  assert.is(starts.length, 1)
  assert.is(scheduler.list().length, 1)
})

test.run()
