// The cron plugin: config, routes, the scheduler as a service, and its stop entry.
import { definePlugin, option, Phase, requireBearer } from '@armature/core'
import { Scheduler } from './src/scheduler.ts'
import { cronRoutes, JOB_CONTROL_DISABLED } from './src/routes.ts'

export default definePlugin({
  name: 'cron',
  version: '0.1.0',
  description: 'Interval and cron scheduling with timezones, a DST policy, overrun control and graceful stop',
  config: {
    /** How long running jobs get to finish at shutdown before their signal aborts. */
    shutdownTimeoutMs: option.duration(5000, { min: 1 }),
  },
  setup(ctx) {
    const scheduler = new Scheduler({
      log: ctx.log,
      metrics: {
        runs: ctx.metrics.counter('runs_total', 'Job runs by job, trigger and result', ['job', 'trigger', 'result']),
        failures: ctx.metrics.counter('failures_total', 'Failed or timed-out job runs', ['job']),
        skipped: ctx.metrics.counter('skipped_total', 'Occurrences dropped by the overrun policy', ['job']),
        lateness: ctx.metrics.histogram('lateness_seconds', 'Delay between planned and actual start', ['job'], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]),
        duration: ctx.metrics.histogram('duration_seconds', 'Job run duration', ['job']),
      },
    })
    const requireAdmin = requireBearer(ctx.kernel.adminToken, { disabled: JOB_CONTROL_DISABLED })
    ctx.http.route(cronRoutes(scheduler, { requireAdmin }))
    ctx.onStop('scheduler', () => scheduler.stop(ctx.config.shutdownTimeoutMs), {
      phase: Phase.Work,
      timeoutMs: ctx.config.shutdownTimeoutMs + 1000,
    })
    ctx.provide(scheduler)
  },
})
