#!/usr/bin/env node
// Runs the app's own tests (test/*.test.ts) and every plugin's (plugins/*/test/*.test.ts),
// each file in its own process with tsx loading TypeScript, a few at a time, and ends
// with one line summing them all: `N passed, N failed`. `npm test -- cache` runs the
// files whose path contains "cache".
import { spawn } from 'node:child_process'
import { readdirSync, existsSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { cpus } from 'node:os'

const root = new URL('..', import.meta.url).pathname
const packages = ['.', ...listDirs(join(root, 'plugins')).map((d) => join('plugins', d))]
const filter = process.argv.slice(2)

const files = packages
  .flatMap((pkg) => listTests(join(root, pkg, 'test')))
  .filter((file) => filter.length === 0 || filter.some((f) => relative(root, file).includes(f)))

const concurrency = Number(process.env.TEST_CONCURRENCY) || Math.max(2, Math.min(4, cpus().length))
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS) || 240_000
let passed = 0
let failed = 0
let skipped = 0
const failures = []

function listDirs(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).filter((d) => !d.startsWith('.') && statSync(join(dir, d)).isDirectory())
}

function listTests(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f))
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      out += `\n[test runner] ${relative(root, file)} exceeded ${fileTimeoutMs} ms; killed\n`
      child.kill('SIGKILL')
    }, fileTimeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, ms: Date.now() - started })
    })
  })
}

// uvu prints "Total: N", "Passed: N", "Skipped: N" at the end of each file.
function count(out, label) {
  const matches = [...out.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))]
  return matches.length ? Number(matches.at(-1)[1]) : undefined
}

async function main() {
  const queue = [...files]
  const workers = Array.from({ length: concurrency }, async () => {
    while (queue.length) {
      const file = queue.shift()
      const { code, out, ms } = await runFile(file)
      const total = count(out, 'Total')
      const ok = count(out, 'Passed')
      const skip = count(out, 'Skipped') ?? 0
      let fileFailed = total === undefined ? 1 : total - ok - skip
      // A crash after the totals (or a non-zero exit with none counted) is still a failure.
      if (code !== 0 && fileFailed === 0) fileFailed = 1
      passed += ok ?? 0
      failed += fileFailed
      skipped += skip
      const name = relative(root, file)
      process.stdout.write(`${fileFailed ? 'FAIL' : 'ok  '} ${name} (${ok ?? 0} passed, ${fileFailed} failed, ${ms} ms)\n`)
      if (fileFailed) failures.push({ name, out })
    }
  })
  await Promise.all(workers)
  for (const { name, out } of failures) {
    process.stdout.write(`\n----- ${name} -----\n${out.trim()}\n`)
  }
  if (skipped) process.stdout.write(`${skipped} skipped\n`)
  process.stdout.write(`${passed} passed, ${failed} failed\n`)
  process.exitCode = failed || files.length === 0 ? 1 : 0
}

main()
