// One Prometheus registry per kernel: request metrics, reloads, process metrics, plugin metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { RequestMetrics } from './request-metrics.ts'

export interface PluginMetrics {
  counter(name: string, help: string, labelNames?: string[]): Counter<string>
  gauge(name: string, help: string, labelNames?: string[]): Gauge<string>
  histogram(name: string, help: string, labelNames?: string[], buckets?: number[]): Histogram<string>
}

const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export class KernelMetrics {
  readonly registry = new Registry()
  readonly requests = new RequestMetrics()
  readonly reloads: Counter<'plugin' | 'result'>

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    this.reloads = new Counter({
      name: 'armature_plugin_reloads_total',
      help: 'Plugin generation swaps by plugin and result (ok|failed)',
      labelNames: ['plugin', 'result'],
      registers: [this.registry],
    })
  }

  /** gRPC calls by plugin, method and status code. */
  readonly grpcCalls = (): Counter<'plugin' | 'method' | 'code'> =>
    new Counter({ name: 'armature_grpc_calls_total', help: 'gRPC calls by plugin, method and status code', labelNames: ['plugin', 'method', 'code'], registers: [this.registry] })

  /** Gauges read at scrape time from the generations' own counters: nothing on the request path. */
  watchGenerations<G extends { name: string; inflight: number }>(current: () => readonly G[], websocketClients: (gen: G) => number): void {
    new Gauge({
      name: 'armature_in_flight',
      help: 'HTTP requests and gRPC calls in flight, by plugin',
      labelNames: ['plugin'],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const gen of current()) this.set({ plugin: gen.name }, gen.inflight)
      },
    })
    new Gauge({
      name: 'armature_websocket_clients',
      help: 'Open WebSocket connections, by plugin',
      labelNames: ['plugin'],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const gen of current()) this.set({ plugin: gen.name }, websocketClients(gen))
      },
    })
  }

  /** Everything, in the Prometheus text format. */
  async render(): Promise<string> {
    return this.requests.render() + (await this.registry.metrics())
  }

  /** Metrics a plugin owns; a reloaded generation gets the same instances back. */
  forPlugin(plugin: string): PluginMetrics {
    const prefix = `armature_${plugin.replace(/-/g, '_')}_`
    const existing = (name: string) => this.registry.getSingleMetric(prefix + name)
    const check = (name: string) => {
      if (!METRIC_NAME.test(name)) throw new TypeError(`metric name ${JSON.stringify(name)} must match ${METRIC_NAME}`)
      return prefix + name
    }
    return {
      counter: (name, help, labelNames = []) => (existing(name) as Counter<string>) ?? new Counter({ name: check(name), help, labelNames, registers: [this.registry] }),
      gauge: (name, help, labelNames = []) => (existing(name) as Gauge<string>) ?? new Gauge({ name: check(name), help, labelNames, registers: [this.registry] }),
      histogram: (name, help, labelNames = [], buckets) =>
        (existing(name) as Histogram<string>) ?? new Histogram({ name: check(name), help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) }),
    }
  }
}
