// Error classes of the scheduler. Messages name the field, the value and what would be valid.

/** A cron field name as used in error messages, or `expression` for whole-expression problems. */
export type CronField = 'second' | 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week' | 'expression'

/** An invalid cron expression, e.g. `day-of-month: 32 is out of range 1-31`. */
export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError'
  constructor(
    readonly field: CronField,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`)
  }
}

/** An invalid interval such as `"5x"` or `0`. */
export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError'
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super(`duration ${JSON.stringify(value)}: ${reason}`)
  }
}

/** An unknown IANA timezone name. */
export class TimezoneError extends Error {
  override readonly name = 'TimezoneError'
  constructor(readonly timezone: string) {
    super(`timezone ${JSON.stringify(timezone)} is not a known IANA timezone (e.g. "Europe/Berlin", "UTC")`)
  }
}

/** A job option or job name that cannot be used. */
export class JobError extends Error {
  override readonly name = 'JobError'
}

/** A run that exceeded its `timeoutMs`; its signal is aborted with this reason. */
export class RunTimeoutError extends Error {
  override readonly name = 'RunTimeoutError'
  constructor(
    readonly job: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${JSON.stringify(job)} exceeded its timeout of ${timeoutMs} ms`)
  }
}

/** The reason a running job's signal aborts when shutdown's grace period ends. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError'
  constructor(readonly job: string) {
    super(`job ${JSON.stringify(job)} was still running when the scheduler's shutdown timeout ended`)
  }
}
