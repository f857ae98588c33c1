// Active health checks: a route that asks for them has each of its targets probed with
// `GET <target><path>` on an interval. A probe that fails (no answer within the timeout, or a
// status of 400 or more) takes the target out of the rotation until a probe succeeds, so a
// sick target is skipped before a request has to fail on it.
import type { Balancer } from './balancer.ts'

export interface HealthCheckSpec {
  /** Path probed on every target, e.g. `/healthz`; the target's base path is put in front. */
  path: string
  intervalMs: number
  timeoutMs: number
}

export const HEALTH_CHECK_LIMITS = { minIntervalMs: 100, maxIntervalMs: 3_600_000, minTimeoutMs: 50 } as const
export const HEALTH_CHECK_DEFAULTS = { intervalMs: 5000, timeoutMs: 2000 } as const

/** One probe: resolves with the status, rejects when nothing answered in time. */
export type Probe = (url: URL, timeoutMs: number) => Promise<number>

/** The default probe: a GET through fetch, its body discarded, no redirect followed. */
export const fetchProbe: Probe = async (url, timeoutMs) => {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'armature-proxy-health-check' } })
  await response.body?.cancel()
  return response.status
}

export class HealthChecker {
  readonly #balancer: Balancer
  readonly #spec: HealthCheckSpec
  readonly #probe: Probe
  #timer: NodeJS.Timeout | undefined
  #running = false

  constructor(balancer: Balancer, spec: HealthCheckSpec, probe: Probe = fetchProbe) {
    this.#balancer = balancer
    this.#spec = spec
    this.#probe = probe
  }

  /** Probes at once, then every interval; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer) return
    void this.#round()
    this.#timer = setInterval(() => void this.#round(), this.#spec.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  async #round(): Promise<void> {
    // A slow round (every target timing out) is not stacked on by the next tick.
    if (this.#running) return
    this.#running = true
    try {
      await Promise.all(this.#balancer.targets().map((target) => this.#check(target)))
    } finally {
      this.#running = false
    }
  }

  async #check(target: URL): Promise<void> {
    const url = new URL(target.pathname.replace(/\/$/, '') + this.#spec.path, target)
    // Held out until a probe passes, however late the next probe runs on a busy process.
    const hold = { untilSucceeded: true }
    let status: number
    try {
      status = await this.#probe(url, this.#spec.timeoutMs)
    } catch (error) {
      if (!this.#timer) return
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${this.#spec.timeoutMs} ms`
          : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message)
      return this.#balancer.failed(target, `health check GET ${this.#spec.path}: ${reason}`, hold)
    }
    if (!this.#timer) return
    if (status >= 400) this.#balancer.failed(target, `health check GET ${this.#spec.path} answered ${status}`, hold)
    else this.#balancer.succeeded(target)
  }
}
