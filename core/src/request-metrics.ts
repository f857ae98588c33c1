// Request counters and the latency histogram, kept by hand because they sit on the hot path:
// prom-client hashes the label object on every observation (about a microsecond a request).
// Rendered in the Prometheus text format next to the registry's own output.

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface Series {
  plugin: string
  route: string
  method: string
  status: number
  count: number
  sum: number
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  buckets: Float64Array
}

export class RequestMetrics {
  readonly #series = new Map<string, Series>()

  /** The series for one label set; callers keep it, so the hot path never builds a key. */
  series(plugin: string, route: string, method: string, status: number): Series {
    const key = plugin + '\0' + route + '\0' + method + '\0' + status
    let series = this.#series.get(key)
    if (!series) {
      series = { plugin, route, method, status, count: 0, sum: 0, buckets: new Float64Array(BUCKETS.length + 1) }
      this.#series.set(key, series)
    }
    return series
  }

  record(series: Series, seconds: number): void {
    series.count++
    series.sum += seconds
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++
    series.buckets[i]!++
  }

  render(): string {
    const lines = ['# HELP armature_http_requests_total HTTP requests by plugin, route, method and status', '# TYPE armature_http_requests_total counter']
    for (const s of this.#series.values()) {
      lines.push(`armature_http_requests_total{plugin="${esc(s.plugin)}",route="${esc(s.route)}",method="${esc(s.method)}",status="${s.status}"} ${s.count}`)
    }
    // The histogram is by plugin and route: series differing only in method or status are merged.
    const merged = new Map<string, { plugin: string; route: string; count: number; sum: number; buckets: Float64Array }>()
    for (const s of this.#series.values()) {
      const key = s.plugin + '\0' + s.route
      let m = merged.get(key)
      if (!m) merged.set(key, (m = { plugin: s.plugin, route: s.route, count: 0, sum: 0, buckets: new Float64Array(BUCKETS.length + 1) }))
      m.count += s.count
      m.sum += s.sum
      for (let i = 0; i < s.buckets.length; i++) m.buckets[i]! += s.buckets[i]!
    }
    lines.push('# HELP armature_http_request_duration_seconds HTTP request latency by plugin and route', '# TYPE armature_http_request_duration_seconds histogram')
    for (const m of merged.values()) {
      const labels = `plugin="${esc(m.plugin)}",route="${esc(m.route)}"`
      let cumulative = 0
      BUCKETS.forEach((le, i) => {
        cumulative += m.buckets[i]!
        lines.push(`armature_http_request_duration_seconds_bucket{le="${le}",${labels}} ${cumulative}`)
      })
      lines.push(`armature_http_request_duration_seconds_bucket{le="+Inf",${labels}} ${m.count}`)
      lines.push(`armature_http_request_duration_seconds_sum{${labels}} ${m.sum}`)
      lines.push(`armature_http_request_duration_seconds_count{${labels}} ${m.count}`)
    }
    return lines.join('\n') + '\n'
  }
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
