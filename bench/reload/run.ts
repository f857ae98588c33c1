// Time from a plugin file write to the first answer from the new generation, and memory
// growth over many reloads (ESM modules cannot be unloaded, so each reload keeps its bundle).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { machine } from '../lib/load.ts'
import { startServer } from '../lib/server.ts'

const root = join(import.meta.dirname, '../..')
const reloads = Number(process.env.BENCH_RELOADS ?? 100)
const port = 18201
const dir = mkdtempSync(join(tmpdir(), 'bench-reload-'))
mkdirSync(join(dir, 'greet'))
const source = (version: number) => `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'greet',
  setup(ctx) {
    ctx.http.route(new Hono().get('/', (c) => c.text('v${version}')))
  },
})
`
writeFileSync(join(dir, 'greet/index.ts'), source(0))
const server = await startServer(
  [process.execPath, join(root, 'core/bin/armature.mjs'), 'start', '--watch', '--plugins', dir],
  `http://127.0.0.1:${port}/greet`,
  { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', LOG_FILE: join(dir, 'log') },
  root,
)

async function memory() {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const read = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1] ?? NaN)
  return { rss: read('process_resident_memory_bytes'), heap: read('nodejs_heap_size_used_bytes') }
}

const times: number[] = []
const before = await memory()
const samples: Array<{ reloads: number; rss: number; heap: number }> = [{ reloads: 0, ...before }]
for (let i = 1; i <= reloads; i++) {
  const started = performance.now()
  writeFileSync(join(dir, 'greet/index.ts'), source(i))
  for (;;) {
    const body = await (await fetch(`http://127.0.0.1:${port}/greet`)).text()
    if (body === `v${i}`) break
    if (performance.now() - started > 10_000) throw new Error(`reload ${i} did not serve within 10 s`)
  }
  times.push(performance.now() - started)
  if (i % 25 === 0) samples.push({ reloads: i, ...(await memory()) })
}
await server.stop()

const sorted = [...times].sort((a, b) => a - b)
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const mb = (n: number) => (n / 2 ** 20).toFixed(1)
const last = samples.at(-1)!
const report = `### Reload latency and memory (bench/reload)

${new Date().toISOString().slice(0, 10)}, ${machine()}; ${reloads} rewrites of a one-route plugin under \`armature start --watch\`, each measured from the file write until GET answers with the new text (includes the 60 ms debounce, the esbuild bundle, the import and the swap).

| reloads | p50 ms | p95 ms | max ms |
|---:|---:|---:|---:|
| ${reloads} | ${pct(50).toFixed(0)} | ${pct(95).toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} |

| after reloads | RSS MiB | heap used MiB |
|---:|---:|---:|
${samples.map((s) => `| ${s.reloads} | ${mb(s.rss)} | ${mb(s.heap)} |`).join('\n')}

Growth over ${reloads} reloads: RSS ${mb(last.rss - before.rss)} MiB, heap ${mb(last.heap - before.heap)} MiB (${((last.heap - before.heap) / reloads / 1024).toFixed(1)} KiB per reload).
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/reload.md'), report)
