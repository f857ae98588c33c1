// Test helpers: boot a real kernel on ephemeral ports, in-process or as a child process,
// and wait for conditions with a deadline (never a fixed sleep).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKernel, type Kernel, type KernelOptions, type KernelOverrides, type StopReport } from '@armature/core'

/** The `armature` command of the @armature/core this package resolves (the app's own, in an app). */
export const ARMATURE_BIN = join(dirname(fileURLToPath(import.meta.resolve('@armature/core/package.json'))), 'bin/armature.mjs')

export interface TestKernelOptions {
  /** Plugin folders or `<name>.ts` files to load. */
  plugins?: string[]
  /** A drop-in folder to scan (off unless given). */
  pluginsDir?: string
  /** Environment seen by the kernel and plugins; PORT and HOST default to an ephemeral loopback port. */
  env?: Record<string, string | undefined>
  overrides?: KernelOverrides
  configFile?: string
  /** Where the kernel runs: its config file, build folder and relative paths. Default: the current folder. */
  cwd?: string
  /** Also print kernel logs to the terminal at this level (default: warn). */
  terminalLogLevel?: string
}

export interface TestKernel {
  kernel: Kernel
  url: string
  httpsUrl: string | undefined
  /** Folder holding this kernel's log file and data. */
  dir: string
  logFile: string
  stop(): Promise<StopReport>
}

export async function startTestKernel(options: TestKernelOptions = {}): Promise<TestKernel> {
  const dir = mkdtempSync(join(tmpdir(), 'armature-test-'))
  const env = {
    PORT: '0',
    HTTPS_PORT: '0',
    HOST: '127.0.0.1',
    LOG_FILE: join(dir, 'armature.log'),
    DATA_DIR: join(dir, 'data'),
    ...options.env,
  }
  const kernelOptions: KernelOptions = {
    cwd: options.cwd ?? process.cwd(),
    env,
    pluginPaths: options.plugins ?? [],
    scanPluginsDir: options.pluginsDir !== undefined,
    terminalLogLevel: options.terminalLogLevel ?? process.env.TEST_LOG_LEVEL ?? 'warn',
    prettyLogs: false,
    overrides: { ...(options.pluginsDir ? { pluginsDir: resolve(options.pluginsDir) } : {}), ...options.overrides },
    ...(options.configFile ? { configFile: options.configFile } : {}),
  }
  const kernel = await startKernel(kernelOptions)
  const address = kernel.addresses.http!
  const https = kernel.addresses.https
  let stopped: Promise<StopReport> | undefined
  return {
    kernel,
    url: `http://127.0.0.1:${address.port}`,
    httpsUrl: https ? `https://localhost:${https.port}` : undefined,
    dir,
    logFile: env.LOG_FILE!,
    stop() {
      stopped ??= kernel.stop().then((report) => {
        rmSync(dir, { recursive: true, force: true })
        return report
      })
      return stopped
    },
  }
}

/** Polls until `check` returns a truthy value, or throws with the last error after the deadline. */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 10_000, intervalMs = 20, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ''}`)
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

export interface ChildKernel {
  child: ChildProcess
  url: string
  /** Every stdout line so far (JSON log lines when not a TTY). */
  lines: string[]
  stderr: () => string
  /** Log messages (`msg`) parsed from stdout. */
  messages: () => string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `armature start` in a child process (for signal tests) and waits for its HTTP address. */
export async function spawnKernel(options: { args?: string[]; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<ChildKernel> {
  const dir = mkdtempSync(join(tmpdir(), 'armature-child-'))
  const child = spawn(process.execPath, [ARMATURE_BIN, 'start', ...(options.args ?? [])], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, PORT: '0', HTTPS_PORT: '0', HOST: '127.0.0.1', LOG_FILE: join(dir, 'armature.log'), DATA_DIR: join(dir, 'data'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let stderr = ''
  let buffer = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    lines.push(...parts)
  })
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.on('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true })
      resolveExit({ code, signal })
    }),
  )
  const messages = () =>
    lines.flatMap((line) => {
      try {
        return [String(JSON.parse(line).msg)]
      } catch {
        return [line]
      }
    })
  const listening = waitFor(
    () =>
      messages().some((m) => m.startsWith('ready: '))
        ? messages()
            .find((m) => m.startsWith('http listening on '))
            ?.slice('http listening on '.length)
        : undefined,
    {
      // Generous: a child that boots embedded PGlite on a busy 2-core machine can take tens of seconds.
      timeoutMs: options.timeoutMs ?? 60_000,
      what: 'the child kernel to listen',
    },
  )
  const early = exited.then(({ code }) => {
    throw new Error(`kernel exited (${code}) before listening: ${stderr.trim() || lines.join('\n')}`)
  })
  let url: string
  try {
    url = await Promise.race([listening, early])
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  early.catch(() => undefined)
  return { child, url, lines, stderr: () => stderr, messages, exited }
}
