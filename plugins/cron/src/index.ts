// Public API of @armature/plugin-cron: a scheduler with no kernel dependency.
export { Scheduler, Job } from './scheduler.ts'
export type {
  JobContext,
  JobFn,
  JobInfo,
  JobOptions,
  JobStatus,
  OverrunPolicy,
  RunOutcome,
  RunTrigger,
  SchedulerLog,
  SchedulerMetrics,
  SchedulerOptions,
  StopReport,
  TriggerResult,
  CounterLike,
  HistogramLike,
} from './scheduler.ts'
export { cronRoutes } from './routes.ts'
export type { CronRoutesOptions } from './routes.ts'
export { parseSchedule } from './schedule.ts'
export type { Schedule, ScheduleOptions, ScheduleSpec } from './schedule.ts'
export { parseCron, NICKNAMES } from './cron-expression.ts'
export type { CronExpression } from './cron-expression.ts'
export { nextCronRun, nextCronRuns } from './next-run.ts'
export { Zone } from './zoned-time.ts'
export type { WallTime, Resolution } from './zoned-time.ts'
export { parseDuration, formatDuration } from './duration.ts'
export { systemClock, VirtualClock, MAX_TIMER_MS } from './clock.ts'
export type { Clock, TimerHandle } from './clock.ts'
export { CronSyntaxError, DurationSyntaxError, TimezoneError, JobError, RunTimeoutError, ShutdownError } from './errors.ts'
export type { CronField } from './errors.ts'
