// Round-robin over a route's targets with passive health: a target that fails to connect
// or answer is skipped for a cool-down, and tried again only when every healthy one failed.

export interface TargetHealth {
  url: string
  healthy: boolean
  /** Failures in a row; reset by a success. */
  failures: number
  /** When a cool-down ends; null when healthy, or while a health check holds the target out. */
  downUntil: string | null
  lastError: string | null
}

interface TargetState {
  url: URL
  failures: number
  downUntil: number
  lastError: string | null
}

export class Balancer {
  readonly #targets: TargetState[]
  readonly #cooldownMs: number
  readonly #now: () => number
  #cursor = 0

  constructor(targets: readonly string[], cooldownMs: number, now: () => number = Date.now, previous?: Balancer) {
    this.#cooldownMs = cooldownMs
    this.#now = now
    // A route swap keeps what is known about targets that stay.
    const known = previous ? previous.#targets : []
    this.#targets = targets.map((t) => known.find((s) => s.url.href === new URL(t).href) ?? { url: new URL(t), failures: 0, downUntil: 0, lastError: null })
  }

  /** The targets to try for one request, in order: healthy ones from the round-robin cursor, then cooling ones, soonest back first. */
  plan(): URL[] {
    const now = this.#now()
    const n = this.#targets.length
    const start = this.#cursor++ % n
    // The usual case, every target healthy: the rotation alone, without sorting.
    let allHealthy = true
    for (let i = 0; i < n; i++) if (this.#targets[i]!.downUntil > now) allHealthy = false
    if (allHealthy) {
      const order = new Array<URL>(n)
      for (let i = 0; i < n; i++) order[i] = this.#targets[(start + i) % n]!.url
      return order
    }
    const rotated = Array.from({ length: n }, (_, i) => this.#targets[(start + i) % n]!)
    const healthy = rotated.filter((t) => t.downUntil <= now)
    // Held targets (downUntil Infinity) sort last; a comparator of Infinity - Infinity would be NaN.
    const cooling = rotated.filter((t) => t.downUntil > now).sort((a, b) => (a.downUntil === b.downUntil ? 0 : a.downUntil < b.downUntil ? -1 : 1))
    return [...healthy, ...cooling].map((t) => t.url)
  }

  succeeded(url: URL): void {
    const state = this.#find(url)
    if (!state) return
    state.failures = 0
    state.downUntil = 0
  }

  /**
   * Takes the target out for the cool-down; with `untilSucceeded` (a failed health check) until
   * `succeeded` is called. A failure never shortens a longer hold already in place.
   */
  failed(url: URL, reason: string, { untilSucceeded = false } = {}): void {
    const state = this.#find(url)
    if (!state) return
    state.failures++
    state.lastError = reason
    state.downUntil = Math.max(state.downUntil, untilSucceeded ? Infinity : this.#now() + this.#cooldownMs)
  }

  /** Ends the holds of health checks (the route no longer has them); cool-downs run on. */
  releaseHolds(): void {
    for (const t of this.#targets) if (t.downUntil === Infinity) t.downUntil = 0
  }

  /** Every target, in configuration order. */
  targets(): URL[] {
    return this.#targets.map((t) => t.url)
  }

  health(): TargetHealth[] {
    const now = this.#now()
    return this.#targets.map((t) => ({
      url: t.url.href.replace(/\/$/, ''),
      healthy: t.downUntil <= now,
      failures: t.failures,
      downUntil: t.downUntil > now && Number.isFinite(t.downUntil) ? new Date(t.downUntil).toISOString() : null,
      lastError: t.lastError,
    }))
  }

  #find(url: URL): TargetState | undefined {
    return this.#targets.find((t) => t.url === url)
  }
}
