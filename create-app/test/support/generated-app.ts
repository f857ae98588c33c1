// Helpers for tests that run the generator (create-armature) and then drive the generated app with npm.
// Apps are generated under the system temp folder, outside the repository, so nothing
// resolves through the repository's node_modules by accident.
import { spawn } from 'node:child_process'
import { mkdtempSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { npmChildEnv } from '../../src/run-command.ts'

export const CREATE_APP_BIN = fileURLToPath(new URL('../../bin/create-armature.mjs', import.meta.url))
export const REPO_PLUGINS_DIR = fileURLToPath(new URL('../../../plugins', import.meta.url))

export interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export function tempRoot(label: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), `create-app-${label}-`)))
}

/** Environment for child processes: no TTY-related CI switch, npm preferring its cache. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...npmChildEnv(), npm_config_prefer_offline: 'true', FORCE_COLOR: '0', ...extra }
}

export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Finished> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolveRun({ code, signal, stdout, stderr })
    })
  })
}

export function createApp(args: string[], cwd: string): Promise<Finished> {
  return run(process.execPath, [CREATE_APP_BIN, ...args], { cwd })
}

export async function npm(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Finished> {
  return run('npm', args, { cwd, env: childEnv(env) })
}

export const summary = (out: string) => /^(\d+) passed, (\d+) failed$/m.exec(out.trim().split('\n').at(-1) ?? '')

/**
 * `npm start` with PORT=0: waits for the kernel's "http listening on" log line, for /healthz
 * to answer 200, then sends SIGTERM to npm (the script execs the kernel, so the signal
 * reaches it) and returns the exit code.
 */
export async function startAndStop(
  appDir: string,
  deadlineMs = 60_000,
): Promise<{ healthz: number; exit: { code: number | null; signal: NodeJS.Signals | null }; output: string }> {
  const child = spawn('npm', ['start'], { cwd: appDir, env: childEnv({ PORT: '0', HOST: '127.0.0.1' }), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })))
  const deadline = Date.now() + deadlineMs
  let healthz = 0
  try {
    while (Date.now() < deadline && child.exitCode === null) {
      const url = /http listening on (http:\/\/[^\s"]+)/.exec(output)?.[1]
      if (url) {
        healthz = await fetch(`${url}/healthz`).then(
          (r) => r.status,
          () => 0,
        )
        if (healthz === 200) break
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  } finally {
    child.kill('SIGTERM')
  }
  const exit = await withDeadline(exited, 20_000, () => {
    child.kill('SIGKILL')
    return `npm start did not exit within 20 s of SIGTERM:\n${output}`
  })
  return { healthz, exit, output }
}

/** Resolves like `promise`, or rejects once `ms` pass (calling `onTimeout` for the message). */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(onTimeout())), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
