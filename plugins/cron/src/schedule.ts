// A job's schedule: an interval or a cron expression in a timezone, and its next occurrence.
import { parseCron, looksLikeCron, type CronExpression } from './cron-expression.ts'
import { formatDuration, isDuration, parseDuration } from './duration.ts'
import { nextCronRun } from './next-run.ts'
import { Zone } from './zoned-time.ts'

export type ScheduleSpec = string | number

export interface Schedule {
  readonly kind: 'interval' | 'cron'
  /** The spec as given (`"5m"`, `"0 9 * * MON-FRI"`, `30000`). */
  readonly spec: string
  /** Zone name for cron schedules; intervals ignore wall clocks. */
  readonly timezone: string | undefined
  /** First occurrence strictly after `after` (epoch ms), or null when there is none. */
  next(after: number): number | null
  /** The next `count` occurrences strictly after `after`. */
  upcoming(count: number, after: number): number[]
}

export interface ScheduleOptions {
  /** IANA timezone for cron expressions; default: the system's. */
  timezone?: string
  /** Intervals run at anchor + k * interval; default 0 (the epoch). */
  anchor?: number
}

class IntervalSchedule implements Schedule {
  readonly kind = 'interval'
  readonly timezone = undefined
  readonly #anchor: number
  constructor(
    readonly spec: string,
    readonly ms: number,
    anchor: number,
  ) {
    this.#anchor = anchor
  }

  next(after: number): number {
    if (after < this.#anchor) return this.#anchor
    return this.#anchor + (Math.floor((after - this.#anchor) / this.ms) + 1) * this.ms
  }

  upcoming(count: number, after: number): number[] {
    const out: number[] = []
    for (let t = after; out.length < count;) out.push((t = this.next(t)))
    return out
  }
}

class CronSchedule implements Schedule {
  readonly kind = 'cron'
  readonly timezone: string
  readonly #zone: Zone
  constructor(
    readonly spec: string,
    readonly expression: CronExpression,
    zone: Zone,
  ) {
    this.#zone = zone
    this.timezone = zone.name
  }

  next(after: number): number | null {
    return nextCronRun(this.expression, after, this.#zone)
  }

  upcoming(count: number, after: number): number[] {
    const out: number[] = []
    for (let t: number | null = after; out.length < count;) {
      t = this.next(t)
      if (t === null) break
      out.push(t)
    }
    return out
  }
}

/**
 * Reads a spec: a number of ms or a duration ("30s", "1h30m") is an interval; anything else
 * must be a cron expression. Throws DurationSyntaxError, CronSyntaxError or TimezoneError.
 */
export function parseSchedule(spec: ScheduleSpec, options: ScheduleOptions = {}): Schedule {
  if (typeof spec === 'number' || (isDuration(spec) && !looksLikeCron(spec))) {
    const ms = parseDuration(spec)
    return new IntervalSchedule(typeof spec === 'number' ? formatDuration(ms) : spec.trim(), ms, options.anchor ?? 0)
  }
  return new CronSchedule(spec.trim(), parseCron(spec), Zone.get(options.timezone))
}
