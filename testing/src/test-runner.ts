// `armature test`: runs every uvu test file of a project — its own test/ folder and each
// workspace's — one process per file (tsx loads TypeScript), a few at a time, and ends with
// one line summing all of them: `N passed, N failed`.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, relative } from 'node:path'

export interface TestRunOptions {
  root: string
  /** Run only files whose path (relative to root) contains one of these. */
  filter?: string[]
  concurrency?: number
  fileTimeoutMs?: number
  write?: (text: string) => void
}

export interface TestRunResult {
  files: number
  passed: number
  failed: number
  skipped: number
}

/** The folders whose test/ holds test files: the root and its npm workspaces (`dir/*` globs expanded). */
export function testPackages(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: string[] }
  const packages = ['.']
  for (const pattern of manifest.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2))
      if (!existsSync(parent)) continue
      for (const entry of readdirSync(parent).sort()) {
        if (!entry.startsWith('.') && statSync(join(parent, entry)).isDirectory()) packages.push(join(pattern.slice(0, -2), entry))
      }
    } else packages.push(pattern)
  }
  return packages
}

export function testFiles(root: string, filter: string[] = []): string[] {
  return testPackages(root)
    .flatMap((pkg) => {
      const dir = join(root, pkg, 'test')
      if (!existsSync(dir)) return []
      return readdirSync(dir)
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => join(dir, f))
    })
    .filter((file) => filter.length === 0 || filter.some((f) => relative(root, file).includes(f)))
}

export async function runTests(options: TestRunOptions): Promise<TestRunResult> {
  const { root } = options
  const write = options.write ?? ((text: string) => process.stdout.write(text))
  const files = testFiles(root, options.filter)
  const concurrency = options.concurrency ?? Math.max(2, Math.min(4, cpus().length))
  const fileTimeoutMs = options.fileTimeoutMs ?? 240_000
  const result: TestRunResult = { files: files.length, passed: 0, failed: 0, skipped: 0 }
  const failures: Array<{ name: string; out: string }> = []
  const queue = [...files]
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (queue.length) {
        const file = queue.shift()!
        const { code, out, ms } = await runFile(root, file, fileTimeoutMs)
        const total = count(out, 'Total')
        const ok = count(out, 'Passed') ?? 0
        const skip = count(out, 'Skipped') ?? 0
        let failed = total === undefined ? 1 : total - ok - skip
        // A crash after the totals (or a non-zero exit with none counted) is still a failure.
        if (code !== 0 && failed === 0) failed = 1
        result.passed += ok
        result.failed += failed
        result.skipped += skip
        const name = relative(root, file)
        write(`${failed ? 'FAIL' : 'ok  '} ${name} (${ok} passed, ${failed} failed, ${ms} ms)\n`)
        if (failed) failures.push({ name, out })
      }
    }),
  )
  for (const { name, out } of failures) write(`\n----- ${name} -----\n${out.trim()}\n`)
  if (result.skipped) write(`${result.skipped} skipped\n`)
  write(`${result.passed} passed, ${result.failed} failed\n`)
  return result
}

function runFile(root: string, file: string, timeoutMs: number): Promise<{ code: number | null; out: string; ms: number }> {
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
      out += `\n[armature test] ${relative(root, file)} exceeded ${timeoutMs} ms; killed\n`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, ms: Date.now() - started })
    })
  })
}

/** uvu ends each file with "Total: N", "Passed: N", "Skipped: N". */
function count(out: string, label: string): number | undefined {
  const matches = [...out.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))]
  return matches.length ? Number(matches.at(-1)![1]) : undefined
}
