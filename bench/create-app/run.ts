// Time from `create-app` to the first 200 from the generated app's /healthz, npm install
// included, for `--plugins hello` and `--all`. Each round uses a fresh folder; the warm
// rounds use the machine's npm cache (the usual case after any earlier install), the cold
// round an empty npm cache, so every package comes from the registry.
// Writes bench/results/create-app.md.
import { spawn } from 'node:child_process'
import { cpus, loadavg, tmpdir } from 'node:os'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from '../lib/stats.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const CREATE_APP = join(REPO, 'create-app/bin/create-armature.mjs')
const RESULTS = join(REPO, 'bench/results/create-app.md')
const GOAL_MS = 60_000
const WARM_ROUNDS = Number(process.env.ROUNDS) || 3

interface Round {
  variant: string
  cache: 'warm' | 'cold'
  scaffoldMs: number
  installMs: number
  startMs: number
  totalMs: number
}

// npm exports the calling project's settings to scripts; a child npm must not act on them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle)_|^npm_config_(local_prefix|workspaces?)$/i.test(k)))

async function round(variant: string, flags: string[], cache: 'warm' | 'cold'): Promise<Round> {
  const root = mkdtempSync(join(tmpdir(), 'bench-create-app-'))
  const childEnv = { ...env, FORCE_COLOR: '0', ...(cache === 'cold' ? { npm_config_cache: join(root, 'npm-cache') } : {}) }
  try {
    const started = performance.now()
    let installStarted = 0
    await new Promise<void>((resolveRun, rejectRun) => {
      const child = spawn(process.execPath, [CREATE_APP, 'app', ...flags], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      const take = (d: Buffer) => {
        output += d
        if (!installStarted && output.includes('- installing dependencies')) installStarted = performance.now()
      }
      child.stdout.on('data', take)
      child.stderr.on('data', take)
      child.on('close', (code) => (code === 0 ? resolveRun() : rejectRun(new Error(`create-app exited ${code}:\n${output}`))))
    })
    const created = performance.now()
    const healthy = await firstHealthz(join(root, 'app'), childEnv)
    return {
      variant,
      cache,
      scaffoldMs: installStarted - started,
      installMs: created - installStarted,
      startMs: healthy - created,
      totalMs: healthy - started,
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** Runs `npm start` and returns the moment /healthz first answers 200; then stops the app. */
function firstHealthz(appDir: string, childEnv: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn('npm', ['start'], { cwd: appDir, env: { ...childEnv, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  const deadline = performance.now() + 60_000
  return (async () => {
    try {
      while (performance.now() < deadline && child.exitCode === null) {
        const url = /http listening on (http:\/\/[^\s"]+)/.exec(output)?.[1]
        if (
          url &&
          (await fetch(`${url}/healthz`).then(
            (r) => r.status,
            () => 0,
          )) === 200
        )
          return performance.now()
        await new Promise((r) => setTimeout(r, 20))
      }
      throw new Error(`no 200 from /healthz within 60 s:\n${output}`)
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })()
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`

const variants: Array<[string, string[]]> = [
  ['--plugins hello', ['--plugins', 'hello']],
  ['--all', ['--all']],
]
const rounds: Round[] = []
const loadBefore = loadavg()[0]!
const startedAt = new Date()
for (const [variant, flags] of variants) {
  for (let i = 0; i < WARM_ROUNDS; i++) {
    const r = await round(variant, flags, 'warm')
    rounds.push(r)
    console.log(`${variant} warm #${i + 1}: ${s(r.totalMs)} (scaffold ${s(r.scaffoldMs)}, install ${s(r.installMs)}, start ${s(r.startMs)})`)
  }
  const cold = await round(variant, flags, 'cold')
  rounds.push(cold)
  console.log(`${variant} cold: ${s(cold.totalMs)} (scaffold ${s(cold.scaffoldMs)}, install ${s(cold.installMs)}, start ${s(cold.startMs)})`)
}
const loadAfter = loadavg()[0]!

const plugins = readdirSync(join(REPO, 'plugins'))
  .filter((p) => !p.startsWith('.'))
  .sort()
const rows = variants.flatMap(([variant]) => {
  const warm = rounds.filter((r) => r.variant === variant && r.cache === 'warm')
  const cold = rounds.filter((r) => r.variant === variant && r.cache === 'cold')
  const row = (label: string, rs: Round[]) => {
    const total = median(rs.map((r) => r.totalMs))
    return `| \`${variant}\` | ${label} | ${s(median(rs.map((r) => r.scaffoldMs)))} | ${s(median(rs.map((r) => r.installMs)))} | ${s(median(rs.map((r) => r.startMs)))} | **${s(total)}** | ${total < GOAL_MS ? 'yes' : 'no'} |`
  }
  return [row(`warm npm cache, median of ${warm.length}`, warm), row('empty npm cache, 1 run', cold)]
})

const doc = `# create-app benchmark

- Command: \`node --import tsx bench/create-app/run.ts\` (\`ROUNDS=n\` warm rounds per variant)
- Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}, ${process.platform}/${process.arch}
- Date: ${startedAt.toISOString().slice(0, 10)} (run started ${startedAt.toISOString().slice(11, 19)} UTC); load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after
- Plugins in the catalogue: ${plugins.join(', ')}

Time from running \`create-app app <flags>\` in an empty folder (template copy, \`npm pack\` of
core, \`npm install --no-audit --no-fund\`) to the first 200 from \`GET /healthz\` of the
generated app started with \`npm start\`. Goal: under 60 s, install included.

| flags | npm cache | scaffold + pack | npm install | start to first 200 | total | < 60 s |
|---|---|---:|---:|---:|---:|---|
${rows.join('\n')}

The empty-cache row downloads every package from the registry, so it depends on the network
as much as on the generator.
`
writeFileSync(RESULTS, doc)
console.log(`\n${doc}`)
