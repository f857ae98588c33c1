// autocannon ships no types; the benchmarks use this much of it.
declare module 'autocannon' {
  interface Result {
    requests: { total: number; average: number }
    latency: { p50: number; p99: number }
    errors: number
    timeouts: number
    non2xx: number
  }
  export default function autocannon(options: Record<string, unknown>): Promise<Result>
}
