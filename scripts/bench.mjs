#!/usr/bin/env node
// Runs the benchmarks in bench/<name>/run.ts one after another (they would disturb each
// other in parallel); `npm run bench -- http reload` runs the named ones; `npm run bench --
// --doc` only rewrites docs/benchmarks.md from bench/results.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
// `--doc` only gathers bench/results into docs/benchmarks.md, running nothing.
const docOnly = args.includes('--doc')
const wanted = docOnly ? ['--doc'] : args
const names = readdirSync(join(root, 'bench'))
  .filter((name) => existsSync(join(root, 'bench', name, 'run.ts')))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
let failed = 0
for (const name of docOnly ? [] : names) {
  console.log(`\n=== bench/${name} ===`)
  const { status } = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', name, 'run.ts')], { cwd: root, stdio: 'inherit' })
  if (status !== 0) failed++
}
writeBenchmarksDoc()
if (!docOnly) console.log(`\n${names.length - failed} benchmarks ran, ${failed} failed; results in bench/results/`)
process.exitCode = failed ? 1 : 0

/** docs/benchmarks.md is the recorded results, gathered from bench/results/*.md. */
function writeBenchmarksDoc() {
  const dir = join(root, 'bench/results')
  const sections = readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8').trim().replace(/^# /gm, '### ').replace(/^## /gm, '#### '))
  const doc = `# Benchmarks

Each benchmark runs Armature beside what a user would pick instead, in the same run on the
same machine, and reports ratios. \`npm run bench\` runs them all (\`npm run bench -- http\`
one of them) and rewrites this page from \`bench/results/\`. Numbers are from 2-core
shared machines: compare within a table, not across tables.

${sections.join('\n\n')}
`
  writeFileSync(join(root, 'docs/benchmarks.md'), doc)
}
