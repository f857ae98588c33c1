// Jobs: arming timers from absolute time, overrun policies, timeouts, pause/resume/trigger and
// a shutdown that lets running jobs finish within a grace period.
import { MAX_TIMER_MS, systemClock, type Clock, type TimerHandle } from './clock.ts'
import { parseDuration } from './duration.ts'
import { JobError, RunTimeoutError, ShutdownError } from './errors.ts'
import { parseSchedule, type Schedule, type ScheduleSpec } from './schedule.ts'

export type OverrunPolicy = 'skip' | 'queue-one' | 'parallel'
export type JobStatus = 'scheduled' | 'running' | 'paused' | 'done' | 'stopped'
export type RunTrigger = 'schedule' | 'manual'

export interface JobContext {
  readonly name: string
  /** Aborted when the run exceeds timeoutMs or shutdown's grace period ends. */
  readonly signal: AbortSignal
  /** The occurrence this run is for (the trigger time for manual runs). */
  readonly scheduledAt: Date
  readonly trigger: RunTrigger
  /** 1 for the job's first run. */
  readonly run: number
}

export type JobFn = (ctx: JobContext) => unknown

export interface JobOptions {
  /** IANA timezone for cron expressions; default: the system's. */
  timezone?: string
  /** What to do when an occurrence comes while a run is still going. Default 'skip'. */
  overrun?: OverrunPolicy
  /** Scheduled runs after which the job is done (manual triggers do not count). */
  maxRuns?: number
  /** Each run starts up to this long after its occurrence, at random ("10s" or ms). */
  jitter?: number | string
  /** No runs before this instant; an interval counts from here (default: when scheduled). */
  startAt?: Date | number | string
  /** No runs after this instant. */
  stopAt?: Date | number | string
  /** A run that takes longer fails, and its signal aborts. */
  timeoutMs?: number
  /** Start paused. */
  paused?: boolean
}

export interface JobInfo {
  name: string
  spec: string
  kind: 'interval' | 'cron'
  timezone: string | null
  status: JobStatus
  overrun: OverrunPolicy
  nextRun: string | null
  lastRun: string | null
  /** Duration of the last finished run. */
  durationMs: number | null
  runs: number
  failures: number
  skipped: number
  lastError: string | null
}

export interface RunOutcome {
  ok: boolean
  error?: unknown
  timedOut: boolean
  durationMs: number
}

export type TriggerResult = { status: 'started'; done: Promise<RunOutcome> } | { status: 'queued' } | { status: 'skipped'; reason: string }

export interface StopReport {
  /** Runs that finished within the grace period. */
  finished: number
  /** Job names whose runs were still going and got their signal aborted. */
  aborted: string[]
}

type Labels = Record<string, string>
export interface CounterLike {
  inc(labels: Labels, value?: number): void
}
export interface HistogramLike {
  observe(labels: Labels, value: number): void
}

/** Sinks for the scheduler's metrics; prom-client Counter and Histogram instances fit. */
export interface SchedulerMetrics {
  /** labels: job, trigger (schedule|manual), result (ok|error|timeout) */
  runs?: CounterLike
  /** labels: job */
  failures?: CounterLike
  /** labels: job; occurrences dropped by the overrun policy */
  skipped?: CounterLike
  /** labels: job; seconds between the planned start and the actual start */
  lateness?: HistogramLike
  /** labels: job; seconds */
  duration?: HistogramLike
}

type LogFn = (obj: object, msg?: string) => void
/** A pino-compatible logger. */
export interface SchedulerLog {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}

export interface SchedulerOptions {
  clock?: Clock
  log?: SchedulerLog
  metrics?: SchedulerMetrics
  /** Random source for jitter, in [0, 1). */
  random?: () => number
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/
const OVERRUN: readonly OverrunPolicy[] = ['skip', 'queue-one', 'parallel']
const silent: LogFn = () => {}
const quietLog: SchedulerLog = { debug: silent, info: silent, warn: silent, error: silent }

function toInstant(name: string, key: string, value: Date | number | string | undefined): number | undefined {
  if (value === undefined) return undefined
  const t = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value)
  if (!Number.isFinite(t)) throw new JobError(`job ${JSON.stringify(name)}: ${key} ${JSON.stringify(value)} is not a valid date`)
  return t
}

const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString())

interface Run {
  readonly controller: AbortController
  readonly done: Promise<RunOutcome>
  settled: boolean
}

export class Job {
  readonly name: string
  readonly schedule: Schedule
  readonly overrun: OverrunPolicy
  readonly #maxRuns: number
  readonly #jitterMs: number
  readonly #startAt: number | undefined
  readonly #stopAt: number | undefined
  readonly #timeoutMs: number | undefined

  #paused: boolean
  #finished = false
  #stopped = false
  #timer: TimerHandle | undefined
  /** The occurrence the timer is armed for. */
  #planned: number | null = null
  /** An occurrence (or manual trigger) waiting for the current run, under 'queue-one'. */
  #queued: { at: number; trigger: RunTrigger } | null = null
  readonly #running = new Set<Run>()
  #scheduledStarts = 0
  #stats = { runs: 0, failures: 0, skipped: 0, lastRun: null as number | null, durationMs: null as number | null, lastError: null as string | null }

  readonly #scheduler: SchedulerInternals
  readonly #fn: JobFn
  /** @internal Created by Scheduler.schedule. */
  constructor(scheduler: SchedulerInternals, name: string, spec: ScheduleSpec, fn: JobFn, options: JobOptions) {
    this.#scheduler = scheduler
    this.#fn = fn
    if (typeof name !== 'string' || !JOB_NAME.test(name)) {
      throw new JobError(`job name ${JSON.stringify(name)} must match ${JOB_NAME} (it is used in URLs and metric labels)`)
    }
    if (typeof fn !== 'function') throw new JobError(`job ${JSON.stringify(name)}: expected a function`)
    this.name = name
    const overrun = options.overrun ?? 'skip'
    if (!OVERRUN.includes(overrun)) {
      throw new JobError(`job ${JSON.stringify(name)}: overrun ${JSON.stringify(overrun)} must be one of ${OVERRUN.join(', ')}`)
    }
    this.overrun = overrun
    const maxRuns = options.maxRuns ?? Infinity
    if (!(maxRuns === Infinity || (Number.isInteger(maxRuns) && maxRuns >= 1))) {
      throw new JobError(`job ${JSON.stringify(name)}: maxRuns ${maxRuns} must be a whole number of at least 1`)
    }
    this.#maxRuns = maxRuns
    this.#jitterMs = options.jitter === undefined || options.jitter === 0 ? 0 : parseDuration(options.jitter)
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0 && options.timeoutMs <= MAX_TIMER_MS)) {
      throw new JobError(`job ${JSON.stringify(name)}: timeoutMs ${options.timeoutMs} must be between 1 and ${MAX_TIMER_MS}`)
    }
    this.#timeoutMs = options.timeoutMs
    this.#startAt = toInstant(name, 'startAt', options.startAt)
    this.#stopAt = toInstant(name, 'stopAt', options.stopAt)
    if (this.#startAt !== undefined && this.#stopAt !== undefined && this.#stopAt < this.#startAt) {
      throw new JobError(`job ${JSON.stringify(name)}: stopAt ${iso(this.#stopAt)} is before startAt ${iso(this.#startAt)}`)
    }
    const now = scheduler.clock.now()
    this.schedule = parseSchedule(spec, { timezone: options.timezone, anchor: this.#startAt ?? now })
    if (this.schedule.next(now) === null) {
      throw new JobError(`job ${JSON.stringify(name)}: ${JSON.stringify(this.schedule.spec)} never matches a date`)
    }
    this.#paused = options.paused ?? false
  }

  get status(): JobStatus {
    if (this.#running.size > 0) return 'running'
    if (this.#stopped) return 'stopped'
    if (this.#paused) return 'paused'
    if (this.#finished) return 'done'
    return 'scheduled'
  }

  /** The occurrence the job waits for, or null (paused, done, stopped). */
  get nextRun(): Date | null {
    return this.#planned === null ? null : new Date(this.#planned)
  }

  info(): JobInfo {
    return {
      name: this.name,
      spec: this.schedule.spec,
      kind: this.schedule.kind,
      timezone: this.schedule.timezone ?? null,
      status: this.status,
      overrun: this.overrun,
      nextRun: iso(this.#planned),
      lastRun: iso(this.#stats.lastRun),
      durationMs: this.#stats.durationMs,
      runs: this.#stats.runs,
      failures: this.#stats.failures,
      skipped: this.#stats.skipped,
      lastError: this.#stats.lastError,
    }
  }

  /**
   * The next `count` occurrences within startAt/stopAt and the runs maxRuns leaves, from now
   * (whether or not the job is paused).
   */
  nextRuns(count: number): Date[] {
    const left = this.#maxRuns - this.#scheduledCommitted()
    const out: Date[] = []
    let after = this.#scheduler.clock.now()
    while (out.length < Math.min(count, left)) {
      const at = this.#occurrenceAfter(after)
      if (at === null) break
      out.push(new Date(at))
      after = at
    }
    return out
  }

  pause(): void {
    if (this.#stopped || this.#paused) return
    this.#paused = true
    this.#queued = null
    this.#disarm()
    this.#scheduler.log.info({ job: this.name }, 'job paused')
  }

  resume(): void {
    if (this.#stopped || !this.#paused) return
    this.#paused = false
    this.#scheduler.log.info({ job: this.name }, 'job resumed')
    this.#armAfter(this.#scheduler.clock.now())
  }

  /** Runs the job now, outside its schedule, subject to its overrun policy. */
  trigger(): TriggerResult {
    if (this.#stopped || this.#scheduler.stopping) return { status: 'skipped', reason: 'the scheduler is stopping' }
    const now = this.#scheduler.clock.now()
    if (this.#running.size > 0 && this.overrun === 'skip') return { status: 'skipped', reason: 'a run is in progress' }
    if (this.#running.size > 0 && this.overrun === 'queue-one') {
      if (this.#queued !== null) return { status: 'skipped', reason: 'a run is in progress and another is queued' }
      this.#queued = { at: now, trigger: 'manual' }
      return { status: 'queued' }
    }
    return { status: 'started', done: this.#start(now, 'manual').done }
  }

  /** Stops scheduling this job (a running run goes on) and removes it from its scheduler. */
  remove(): void {
    this.halt()
    this.#scheduler.forget(this)
  }

  // --- internals -----------------------------------------------------------------------

  /** @internal */
  begin(): void {
    if (!this.#paused) this.#armAfter(this.#scheduler.clock.now())
  }

  /** @internal No new runs; returns the runs in flight. */
  halt(): Run[] {
    this.#stopped = true
    this.#queued = null
    this.#disarm()
    return [...this.#running]
  }

  /** First occurrence strictly after `after` inside startAt/stopAt, or null. */
  #occurrenceAfter(after: number): number | null {
    const from = this.#startAt !== undefined && after < this.#startAt ? this.#startAt - 1 : after
    const at = this.schedule.next(from)
    if (at === null || (this.#stopAt !== undefined && at > this.#stopAt)) return null
    return at
  }

  #armAfter(after: number): void {
    this.#disarm()
    if (this.#stopped || this.#paused) return
    if (this.#scheduledCommitted() >= this.#maxRuns) return this.#finish()
    const at = this.#occurrenceAfter(after)
    if (at === null) return this.#finish()
    this.#planned = at
    const jitter = this.#jitterMs > 0 ? Math.floor(this.#scheduler.random() * this.#jitterMs) : 0
    this.#waitUntil(at, at + jitter)
  }

  /** Arms a timer for `fireAt`, in chunks when it is further away than a timer can wait. */
  #waitUntil(at: number, fireAt: number): void {
    const delay = fireAt - this.#scheduler.clock.now()
    if (delay > MAX_TIMER_MS) {
      this.#timer = this.#scheduler.clock.setTimer(() => this.#waitUntil(at, fireAt), MAX_TIMER_MS)
    } else {
      this.#timer = this.#scheduler.clock.setTimer(() => this.#fire(at, fireAt), Math.max(0, delay))
    }
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#scheduler.clock.clearTimer(this.#timer)
    this.#timer = undefined
    this.#planned = null
  }

  #finish(): void {
    this.#planned = null
    if (!this.#finished) {
      this.#finished = true
      this.#scheduler.log.info({ job: this.name }, 'job done: no occurrences left')
    }
  }

  #fire(at: number, fireAt: number): void {
    this.#timer = undefined
    const now = this.#scheduler.clock.now()
    // Timers may fire a little early against the wall clock; wait out the rest.
    if (now < fireAt) return this.#waitUntil(at, fireAt)
    const lateness = now - fireAt
    this.#scheduler.metrics.lateness?.observe({ job: this.name }, lateness / 1000)
    this.#planned = null
    if (this.#running.size === 0 || this.overrun === 'parallel') {
      this.#scheduledStarts++
      this.#start(at, 'schedule')
    } else if (this.overrun === 'queue-one' && this.#queued === null) {
      this.#queued = { at, trigger: 'schedule' }
    } else {
      this.#stats.skipped++
      this.#scheduler.metrics.skipped?.inc({ job: this.name })
      this.#scheduler.log.warn({ job: this.name, scheduledAt: iso(at), overrun: this.overrun }, 'job still running; occurrence skipped')
    }
    // The next occurrence comes from the schedule, never from this firing's delay; occurrences
    // missed while the process was stalled are not replayed.
    let next = this.#occurrenceAfter(at)
    if (next !== null && next <= now) next = this.#occurrenceAfter(now)
    this.#armAfter(next === null ? now : next - 1)
  }

  #start(at: number, trigger: RunTrigger): Run {
    const clock = this.#scheduler.clock
    const controller = new AbortController()
    const startedAt = clock.now()
    const runNumber = ++this.#stats.runs
    this.#stats.lastRun = startedAt
    const ctx: JobContext = { name: this.name, signal: controller.signal, scheduledAt: new Date(at), trigger, run: runNumber }
    let settled = false
    let timeout: TimerHandle | undefined
    let resolveDone!: (outcome: RunOutcome) => void
    const done = new Promise<RunOutcome>((resolve) => (resolveDone = resolve))
    const run: Run = { controller, done, settled: false }
    this.#running.add(run)
    this.#scheduler.log.debug({ job: this.name, trigger, run: runNumber }, 'job started')

    const settle = (error: unknown, failed: boolean, timedOut: boolean) => {
      if (settled) return
      settled = true
      run.settled = true
      if (timeout !== undefined) clock.clearTimer(timeout)
      this.#running.delete(run)
      const durationMs = clock.now() - startedAt
      this.#stats.durationMs = durationMs
      const result = timedOut ? 'timeout' : failed ? 'error' : 'ok'
      const { metrics, log } = this.#scheduler
      metrics.runs?.inc({ job: this.name, trigger, result })
      metrics.duration?.observe({ job: this.name }, durationMs / 1000)
      if (failed) {
        this.#stats.failures++
        this.#stats.lastError = error instanceof Error ? error.message : String(error)
        metrics.failures?.inc({ job: this.name })
        log.error({ job: this.name, run: runNumber, durationMs, err: error }, timedOut ? 'job timed out' : 'job failed')
      } else {
        this.#stats.lastError = null
        log.debug({ job: this.name, run: runNumber, durationMs }, 'job finished')
      }
      resolveDone(failed ? { ok: false, error, timedOut, durationMs } : { ok: true, timedOut: false, durationMs })
      this.#afterRun()
    }

    if (this.#timeoutMs !== undefined) {
      const timeoutMs = this.#timeoutMs
      timeout = clock.setTimer(() => {
        const error = new RunTimeoutError(this.name, timeoutMs)
        controller.abort(error)
        settle(error, true, true)
      }, timeoutMs)
    }
    try {
      Promise.resolve(this.#fn(ctx)).then(
        () => settle(undefined, false, false),
        (error: unknown) => settle(error, true, false),
      )
    } catch (error) {
      settle(error, true, false)
    }
    return run
  }

  #afterRun(): void {
    if (this.#running.size === 0 && this.#queued !== null && !this.#stopped && !this.#scheduler.stopping) {
      const { at, trigger } = this.#queued
      this.#queued = null
      if (trigger === 'schedule') this.#scheduledStarts++
      this.#start(at, trigger)
    }
    this.#scheduler.runSettled()
  }

  /** Scheduled runs started or queued; what maxRuns counts. */
  #scheduledCommitted(): number {
    return this.#scheduledStarts + (this.#queued?.trigger === 'schedule' ? 1 : 0)
  }
}

/** What a Job needs from its scheduler. */
interface SchedulerInternals {
  readonly clock: Clock
  readonly log: SchedulerLog
  readonly metrics: SchedulerMetrics
  readonly random: () => number
  readonly stopping: boolean
  forget(job: Job): void
  runSettled(): void
}

export class Scheduler implements SchedulerInternals {
  readonly clock: Clock
  readonly log: SchedulerLog
  readonly metrics: SchedulerMetrics
  readonly random: () => number
  readonly #jobs = new Map<string, Job>()
  #stopState: 'running' | 'stopping' | 'stopped' = 'running'
  #settledListeners = new Set<() => void>()

  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? systemClock
    this.log = options.log ?? quietLog
    this.metrics = options.metrics ?? {}
    this.random = options.random ?? Math.random
  }

  get stopping(): boolean {
    return this.#stopState !== 'running'
  }

  /**
   * Schedules fn under a unique name. spec: an interval ("30s", "1h30m", ms) or a cron
   * expression ("0 9 * * MON-FRI", "@daily"). Throws CronSyntaxError, DurationSyntaxError,
   * TimezoneError or JobError.
   */
  schedule(name: string, spec: ScheduleSpec, fn: JobFn, options: JobOptions = {}): Job {
    if (this.stopping) throw new JobError(`job ${JSON.stringify(name)}: the scheduler is stopping`)
    if (this.#jobs.has(name)) throw new JobError(`job ${JSON.stringify(name)} is already scheduled`)
    const job = new Job(this, name, spec, fn, options)
    this.#jobs.set(name, job)
    job.begin()
    this.log.info({ job: name, spec: job.schedule.spec, nextRun: job.nextRun?.toISOString() ?? null }, 'job scheduled')
    return job
  }

  get(name: string): Job | undefined {
    return this.#jobs.get(name)
  }

  list(): JobInfo[] {
    return [...this.#jobs.values()].map((job) => job.info())
  }

  pause(name: string): void {
    this.#must(name).pause()
  }

  resume(name: string): void {
    this.#must(name).resume()
  }

  trigger(name: string): TriggerResult {
    return this.#must(name).trigger()
  }

  nextRuns(name: string, count: number): Date[] {
    return this.#must(name).nextRuns(count)
  }

  remove(name: string): boolean {
    const job = this.#jobs.get(name)
    job?.remove()
    return job !== undefined
  }

  /**
   * Stops firing, lets running jobs finish for up to timeoutMs, then aborts the signals of the
   * runs still going and resolves (it does not wait for them to notice).
   */
  async stop(timeoutMs = 5000): Promise<StopReport> {
    if (this.#stopState !== 'running') return { finished: 0, aborted: [] }
    this.#stopState = 'stopping'
    const runs = [...this.#jobs.values()].flatMap((job) => job.halt().map((run) => ({ job, run })))
    if (runs.length > 0) this.log.info({ running: runs.map((r) => r.job.name) }, 'scheduler stopping; waiting for running jobs')
    const allDone = Promise.all(runs.map(({ run }) => run.done))
    let timer: TimerHandle | undefined
    const expired = new Promise<'expired'>((resolve) => (timer = this.clock.setTimer(() => resolve('expired'), Math.min(timeoutMs, MAX_TIMER_MS))))
    const outcome = runs.length === 0 ? 'done' : await Promise.race([allDone.then(() => 'done' as const), expired])
    this.clock.clearTimer(timer)
    const aborted: string[] = []
    if (outcome === 'expired') {
      for (const { job, run } of runs) {
        if (run.settled) continue
        run.controller.abort(new ShutdownError(job.name))
        aborted.push(job.name)
      }
      this.log.warn({ aborted, timeoutMs }, 'scheduler stopped; runs still going had their signal aborted')
    } else {
      this.log.info({ finished: runs.length }, 'scheduler stopped')
    }
    this.#stopState = 'stopped'
    return { finished: runs.length - aborted.length, aborted }
  }

  /** Resolves when no job is running (for tests and tools). */
  idle(): Promise<void> {
    if (this.list().every((j) => j.status !== 'running')) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => {
        if (this.list().every((j) => j.status !== 'running')) {
          this.#settledListeners.delete(check)
          resolve()
        }
      }
      this.#settledListeners.add(check)
    })
  }

  /** @internal */
  forget(job: Job): void {
    if (this.#jobs.get(job.name) === job) this.#jobs.delete(job.name)
  }

  /** @internal */
  runSettled(): void {
    for (const listener of [...this.#settledListeners]) listener()
  }

  #must(name: string): Job {
    const job = this.#jobs.get(name)
    if (!job) throw new JobError(`no job named ${JSON.stringify(name)}`)
    return job
  }
}
