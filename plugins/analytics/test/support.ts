// Shared by the analytics tests: the canonical request, a kernel with the plugin on PostgreSQL
// or PGlite, and a probe plugin that runs SQL in that kernel, so one assertion reads both backends.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'

export const PLUGIN_DIR = new URL('..', import.meta.url).pathname
export const DB_DIR = new URL('../../db', import.meta.url).pathname

/** The canonical request (shared/data/analytics-request.http). */
export const CANONICAL_HEADERS = {
  'X-Tantum-UserAgent': 'DeviceID=G1752G75-7C56-4G49-BGFA5ACBGC963471;DeviceType=iOS;OsVersion=15.5;AppVersion=4.3 (725)',
  'X-Tantum-Authorization': '2daba111-1e48-4ba1-8753-2daba1119a09',
  'Content-Type': 'application/json',
}
export const CANONICAL_BODY = { module: 'settings', type: 'alert', event: 'click', name: 'подтверждение выхода', data: { action: 'cancel' } }

export type Backend = 'postgres' | 'pglite'

export interface AnalyticsKernel {
  k: TestKernel
  url: string
  /** Runs one statement in the kernel's database (through the probe plugin) and returns its rows. */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>
  /** The PostgreSQL database, when the backend is postgres. */
  database: TestDatabase | undefined
  stop(): Promise<void>
}

const PROBE = `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'probe',
  version: '1.0.0',
  uses: ['db'],
  setup(ctx) {
    const db = ctx.use('db')
    ctx.http.route(new Hono().post('/sql', async (c) => {
      const { text, params } = await c.req.json()
      return c.json((await db.query(text, params)).rows)
    }))
  },
})
`

/** A drop-in folder with the probe plugin (and any extra plugin sources given). */
export function extraPlugins(sources: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'analytics-plugins-'))
  for (const [name, source] of Object.entries({ probe: PROBE, ...sources })) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'index.ts'), source)
  }
  return dir
}

export function sqlOver(url: string) {
  return async <R = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> => {
    const res = await fetch(`${url}/probe/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, params }) })
    if (res.status !== 200) throw new Error(`probe answered ${res.status}: ${await res.text()}`)
    return (await res.json()) as R[]
  }
}

export async function startAnalytics(
  backend: Backend,
  options: { env?: Record<string, string>; database?: TestDatabase; extra?: Record<string, string> } = {},
): Promise<AnalyticsKernel> {
  const database = backend === 'postgres' ? (options.database ?? (await createTestDatabase('armature_analytics'))) : undefined
  const dir = extraPlugins(options.extra)
  const names = ['probe', ...Object.keys(options.extra ?? {})]
  const k = await startTestKernel({
    plugins: [DB_DIR, PLUGIN_DIR, ...names.map((name) => join(dir, name))],
    env: { DATABASE_URL: database?.url ?? '', ...options.env },
  })
  return {
    k,
    url: k.url,
    sql: sqlOver(k.url),
    database,
    async stop() {
      await k.stop()
      rmSync(dir, { recursive: true, force: true })
      if (!options.database) await database?.drop()
    },
  }
}

/** POSTs the canonical request, with headers and body changed as given (`null` removes a header). */
export function post(url: string, change: { headers?: Record<string, string | null>; body?: unknown; rawBody?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries({ ...CANONICAL_HEADERS, ...change.headers })) if (value !== null) headers[name] = value
  const body = change.rawBody ?? JSON.stringify(change.body ?? CANONICAL_BODY)
  return fetch(`${url}/analytics`, { method: 'POST', headers, body })
}

export const ADMIN_TOKEN = 'analytics-test-admin'

/** A plugin adding a processor that fails rows named `boom` until POST /failing/heal. */
export const FAILING_PLUGIN = `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'failing',
  version: '1.0.0',
  uses: ['analytics'],
  setup(ctx) {
    let healed = false
    ctx.use('analytics').addProcessor('boom-check', (event, processed) => {
      if (!healed && event.body.name === 'boom') throw new Error('boom refused (attempt ' + event.attempt + ')')
      return { ...processed, data: { ...processed.data, checked: true } }
    }, { signal: ctx.signal })
    ctx.http.route(new Hono().post('/heal', (c) => { healed = true; return c.json({ healed }) }))
  },
})
`

/** A sample's value from /metrics (0 when absent). */
export async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line ? Number(line.slice(series.length + 1)) : 0
}
