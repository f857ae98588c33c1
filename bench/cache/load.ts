// A closed-loop HTTP load generator run as its own process, so it does not share the
// event loop of the server it measures: `connections` keep-alive clients each send the
// next request as soon as the previous answer arrives. Spec as JSON in argv[2]; prints
// the result as one JSON line.
import { Agent, request } from 'node:http'

export interface LoadSpec {
  url: string
  method: 'GET' | 'PUT'
  /** For PUT: `{i}` in the path is replaced by the client number, so clients do not contend on one document. */
  body?: string
  connections: number
  durationMs: number
}

export interface LoadResult {
  requests: number
  errors: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Error counts by status code or error code, to tell overload from bugs. */
  errorKinds: Record<string, number>
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec
const target = new URL(spec.url)
// `{i}` is replaced before parsing: URL would percent-encode the braces.
const paths = Array.from({ length: spec.connections }, (_, client) => {
  const u = new URL(spec.url.replace('{i}', String(client)))
  return u.pathname + u.search
})
const agent = new Agent({ keepAlive: true, maxSockets: spec.connections })
const latencies: number[] = []
let errors = 0
const errorKinds: Record<string, number> = {}
const fail = (kind: string) => {
  errors++
  errorKinds[kind] = (errorKinds[kind] ?? 0) + 1
}

function once(client: number): Promise<void> {
  const path = paths[client]!
  const started = performance.now()
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path,
        method: spec.method,
        headers: spec.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) } : {},
      },
      (res) => {
        res.resume()
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 400) fail(String(res.statusCode))
          latencies.push(performance.now() - started)
          resolve()
        })
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) => {
      fail(err.code ?? err.message)
      resolve()
    })
    req.end(spec.body)
  })
}

const started = performance.now()
const deadline = started + spec.durationMs
await Promise.all(
  Array.from({ length: spec.connections }, async (_, client) => {
    while (performance.now() < deadline) await once(client)
  }),
)
const elapsed = (performance.now() - started) / 1000
agent.destroy()
latencies.sort((a, b) => a - b)
const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
const result: LoadResult = { requests: latencies.length, errors, rps: latencies.length / elapsed, p50Ms: pick(0.5), p99Ms: pick(0.99), errorKinds }
process.stdout.write(`${JSON.stringify(result)}\n`)
