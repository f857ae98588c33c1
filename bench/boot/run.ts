// Boot time to /readyz and idle memory of `armature start --plugins ./plugins` (the shipped
// plugins on their embedded defaults): a first boot on an empty DATA_DIR (PGlite runs initdb),
// a second boot on the same DATA_DIR, and the kernel without db, proxy and shortener beside them.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { machine } from '../lib/load.ts'

const root = join(import.meta.dirname, '../..')
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const idleMs = Number(process.env.BENCH_IDLE_MS ?? 5000)
const goalMiB = 350
const withoutPlugins = ['db', 'proxy', 'shortener']
const work = mkdtempSync(join(tmpdir(), 'bench-boot-'))

interface Boot {
  readyMs: number
  /** The kernel process's VmRSS after `idleMs` at rest. */
  idleMiB: number
  /** The kernel process's VmHWM: its own peak. */
  peakMiB: number
  /** Highest sum of VmRSS over the kernel and its child processes, sampled during boot. */
  treePeakMiB: number
  /** What the db plugin logged as its own setup time, and the initdb part of it. */
  dbMs: number | undefined
  initdbMs: number | undefined
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Number(kb) / 1024 : 0
  } catch {
    return 0 // the process is gone
  }
}

/** The pid and its descendants, from /proc/<pid>/task/<tid>/children (Linux). */
function tree(pid: number): number[] {
  const pids = [pid]
  for (let i = 0; i < pids.length; i++) {
    const tasks = join('/proc', String(pids[i]), 'task')
    if (!existsSync(tasks)) continue
    for (const tid of readdirSync(tasks)) {
      try {
        pids.push(
          ...readFileSync(join(tasks, tid, 'children'), 'utf8')
            .split(' ')
            .filter(Boolean)
            .map(Number),
        )
      } catch {
        // the task ended while being read
      }
    }
  }
  return pids
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function boot(pluginsDir: string, dataDir: string): Promise<Boot> {
  const port = await freePort()
  const logFile = join(work, `kernel-${port}.log`)
  const started = performance.now()
  const child = spawn(process.execPath, [join(root, 'core/bin/armature.mjs'), 'start', '--plugins', pluginsDir], {
    cwd: root,
    // The embedded defaults: no database, Redis or broker URL from the caller's environment.
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      GRPC_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_FILE: logFile,
      LOG_LEVEL: 'info',
      DATABASE_URL: '',
      REDIS_URL: '',
      AMQP_URL: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const pid = child.pid!
  let treePeakMiB = 0
  const sampler = setInterval(() => {
    treePeakMiB = Math.max(
      treePeakMiB,
      tree(pid).reduce((sum, p) => sum + status(p, 'VmRSS'), 0),
    )
  }, 50)
  try {
    const deadline = Date.now() + 180_000
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      if (child.exitCode !== null) throw new Error(`the kernel exited with ${child.exitCode} before /readyz answered 200: ${stderr.trim()}`)
      if (Date.now() > deadline) throw new Error('/readyz did not answer 200 within 180 s')
      await new Promise((r) => setTimeout(r, 25))
    }
    const readyMs = performance.now() - started
    // A benchmark, not a test: "idle" is the process left alone for a fixed time after ready.
    await new Promise((r) => setTimeout(r, idleMs))
    const idleMiB = status(pid, 'VmRSS')
    const peakMiB = status(pid, 'VmHWM')
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"msg":"database ready"'))
    const logged = line ? (JSON.parse(line) as { ms: number; initdbMs?: number }) : undefined
    return { readyMs, idleMiB, peakMiB, treePeakMiB, dbMs: logged?.ms, initdbMs: logged?.initdbMs }
  } finally {
    clearInterval(sampler)
    child.kill('SIGTERM')
    await exited
  }
}

// The comparison kernel: the shipped plugins minus db and what needs it, copied to a folder of their own.
const reduced = join(work, 'plugins-without-db')
for (const name of readdirSync(join(root, 'plugins'))) {
  if (withoutPlugins.includes(name) || !existsSync(join(root, 'plugins', name, 'index.ts'))) continue
  cpSync(join(root, 'plugins', name), join(reduced, name), { recursive: true, filter: (src) => !/[/\\](node_modules|test)$/.test(src) })
}
const shipped = readdirSync(join(root, 'plugins')).filter((name) => existsSync(join(root, 'plugins', name, 'index.ts')))

const load = [loadavg()[0]!]
const results: Record<'first' | 'second' | 'without', Boot[]> = { first: [], second: [], without: [] }
for (let round = 1; round <= rounds; round++) {
  const dataDir = join(work, `data-${round}`)
  results.first.push(await boot('./plugins', dataDir))
  results.second.push(await boot('./plugins', dataDir))
  results.without.push(await boot(reduced, join(work, `data-without-${round}`)))
  load.push(loadavg()[0]!)
  console.log(`round ${round}: ${JSON.stringify({ first: results.first.at(-1), second: results.second.at(-1), without: results.without.at(-1) })}`)
}
rmSync(work, { recursive: true, force: true })

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const range = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`
const row = (label: string, boots: Boot[]) => {
  const ready = boots.map((b) => b.readyMs / 1000)
  const idle = boots.map((b) => b.idleMiB)
  const seconds = (pick: (b: Boot) => number | undefined) => {
    const values = boots.flatMap((b) => (pick(b) === undefined ? [] : [pick(b)! / 1000]))
    return values.length ? median(values).toFixed(1) : '-'
  }
  return `| ${label} | ${median(ready).toFixed(1)} | ${range(ready, 1)} | ${seconds((b) => b.dbMs)} | ${seconds((b) => b.initdbMs)} | **${median(idle).toFixed(0)}** | ${range(idle)} | ${median(boots.map((b) => b.peakMiB)).toFixed(0)} | ${median(boots.map((b) => b.treePeakMiB)).toFixed(0)} |`
}
const verdict = (boots: Boot[]) => {
  const worst = Math.max(...boots.map((b) => b.idleMiB))
  return `${worst < goalMiB ? 'met' : 'missed'} (highest of ${boots.length}: ${worst.toFixed(0)} MiB)`
}

const report = `### Boot time and idle memory (bench/boot)

${new Date().toISOString().slice(0, 10)}, ${machine()}; load average ${range(load, 1)} during the run; \`npm run bench -- boot\`. Each boot is \`armature start --plugins ./plugins\` run from the repository root as its own process on the embedded defaults (no \`DATABASE_URL\`, \`REDIS_URL\` or \`AMQP_URL\`), with the shipped plugins (${shipped.join(', ')}). A first boot gets an empty \`DATA_DIR\`, so PGlite creates its cluster (initdb); the second boot reopens the same \`DATA_DIR\`. The comparison kernel runs the same plugins without ${withoutPlugins.join(', ')}. Ready is the time from spawning the process to the first 200 from \`GET /readyz\` (polled every 25 ms); db setup is what the db plugin logs as its own setup time, and initdb the part of it spent creating the cluster in a child process. Idle RSS is \`VmRSS\` from \`/proc/<pid>/status\` of the kernel process itself, ${idleMs / 1000} s after ready; peak is its \`VmHWM\`; the tree peak is the highest sum of \`VmRSS\` over the kernel and its child processes, sampled every 50 ms during the boot. Medians of ${rounds} rounds (first, second and comparison boot in turn each round), with the range; memory in MiB.

| boot | ready s | ready s range | db setup s | of which initdb s | idle RSS MiB | idle RSS range | kernel peak MiB | kernel + children peak MiB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${row('all shipped plugins, first boot (empty DATA_DIR)', results.first)}
${row('all shipped plugins, second boot (same DATA_DIR)', results.second)}
${row(`without ${withoutPlugins.join(', ')}`, results.without)}

Goal: every shipped plugin under ${goalMiB} MiB RSS at idle, first boot or not. First boot: ${verdict(results.first)}; second boot: ${verdict(results.second)}.
How the db plugin gets there: on a first boot initdb runs in a child process that exits before the kernel opens the finished folder (PGlite's initdb leaves the WebAssembly memory it grew, near 800 MB, resident for the life of the process that ran it), and PostgreSQL runs with \`shared_buffers=16MB\` and \`maintenance_work_mem=16MB\` instead of a server's 128MB and 64MB (\`DB_PGLITE_*\` in plugins/db/README.md). The same bench before that change is in [bench/boot/history.md](/bench/boot/history.md).
The db, proxy and shortener plugins together add ${(median(results.second.map((b) => b.idleMiB)) - median(results.without.map((b) => b.idleMiB))).toFixed(0)} MiB at idle to the kernel without them (medians, second boot), most of it PGlite. On a first boot the initdb child peaks for the seconds it runs (the last column); the kernel process itself never holds that memory. Ready times move with the machine's load (see the load average above); compare rows of one run.
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/boot.md'), report)
