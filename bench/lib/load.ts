// One load generator for every HTTP benchmark: wrk when installed (C, light on the CPU),
// else autocannon. Both report req/s and p99 latency in the same shape.
import { execFileSync, spawn } from 'node:child_process'
import { cpus, totalmem } from 'node:os'

export interface LoadResult {
  tool: 'wrk' | 'autocannon'
  requests: number
  rps: number
  p50ms: number
  p99ms: number
  errors: number
  non2xx: number
}

export interface LoadOptions {
  url: string
  connections?: number
  durationSec?: number
  method?: string
  body?: string
  headers?: Record<string, string>
}

export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk --version exits 1 after printing; only ENOENT means it is missing.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  return hasWrk() && !process.env.BENCH_AUTOCANNON ? wrk(options) : autocannon(options)
}

async function wrk({ url, connections = 50, durationSec = 10, method = 'GET', body, headers = {} }: LoadOptions): Promise<LoadResult> {
  // A Lua script sets method/body/headers and prints the numbers as JSON at the end.
  const script = `
wrk.method = ${JSON.stringify(method)}
${body !== undefined ? `wrk.body = ${JSON.stringify(body)}` : ''}
${Object.entries(headers)
  .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
  .join('\n')}
local non2xx = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"p50":%d,"p99":%d,"errors":%d,"status":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors, summary.errors.status))
end
`
  const { writeFileSync, mkdtempSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const file = join(mkdtempSync(join(tmpdir(), 'wrk-')), 'script.lua')
  writeFileSync(file, script)
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${durationSec}s`, '-s', file, url])
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '))
  if (!line) throw new Error(`wrk printed no result:\n${out}`)
  const r = JSON.parse(line.slice(8))
  return {
    tool: 'wrk',
    requests: r.requests,
    rps: r.requests / (r.durationUs / 1e6),
    p50ms: r.p50 / 1000,
    p99ms: r.p99 / 1000,
    errors: r.errors,
    non2xx: r.status,
  }
}

async function autocannon({ url, connections = 50, durationSec = 10, method = 'GET', body, headers = {} }: LoadOptions): Promise<LoadResult> {
  const { default: ac } = await import('autocannon')
  const result = await ac({ url, connections, duration: durationSec, method: method as 'GET', ...(body !== undefined ? { body } : {}), headers })
  return {
    tool: 'autocannon',
    requests: result.requests.total,
    rps: result.requests.average,
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', () => resolve(out))
  })
}

export function machine(): string {
  const cpu = cpus()
  return `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`
}
