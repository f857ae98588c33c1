// `armature start | dev | plugins | <plugin> ...`
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ConfigError, errorMessage } from './errors.ts'
import { startKernel, type Kernel } from './kernel.ts'

const HELP: Record<string, string> = {
  main: `Usage: armature <command> [options]

Commands:
  start     run the kernel with the plugins in the drop-in folder
  dev       start with watching and a local HTTPS certificate
  plugins   list the plugins of a running kernel
  test      run every test/*.test.ts of the project and its workspaces
  <plugin>  a plugin's own commands (e.g. armature cache ls)

Run armature <command> --help for a command's options.`,
  start: `Usage: armature start [--plugins DIR] [--watch] [--config FILE]

  --plugins DIR   the drop-in folder (default ./plugins, env PLUGINS_DIR)
  --watch         reload a plugin when its files change
  --config FILE   config file (default armature.config.json or .ts in the current folder)

Environment: PORT, HOST, HTTPS_PORT, TLS_CERT, TLS_KEY, ADMIN_TOKEN, LOG_LEVEL, LOG_FILE,
DATA_DIR, SHUTDOWN_TIMEOUT_MS, and <PLUGIN>_<OPTION> for plugin options.`,
  dev: `Usage: armature dev [--plugins DIR] [--config FILE]

Like start --watch, plus HTTPS on HTTPS_PORT (default 8443) with a certificate signed by a
local CA created on first start under .armature/tls (trust .armature/tls/ca.pem).`,
  test: `Usage: armature test [FILTER...]

Runs test/*.test.ts of the project and of each npm workspace (plugins/*, ...), one process
per file with uvu and tsx, a few at a time; ends with one line: N passed, N failed. A FILTER
keeps the files whose path contains it. Env: TEST_CONCURRENCY, TEST_FILE_TIMEOUT_MS.`,
  plugins: `Usage: armature plugins [--url URL] [--json]

Lists the plugins of a running kernel (default URL http://127.0.0.1:$PORT or :8080).`,
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main)
    return command ? 0 : 1
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    if (HELP[command]) {
      console.log(HELP[command])
      return 0
    }
  }
  switch (command) {
    case 'start':
    case 'dev':
      return run(command, rest)
    case 'plugins':
      return listPlugins(rest)
    case 'test': {
      const runTests = await testRunner()
      if (!runTests) return 2
      const result = await runTests({
        root: process.cwd(),
        filter: rest,
        ...(process.env.TEST_CONCURRENCY ? { concurrency: Number(process.env.TEST_CONCURRENCY) } : {}),
        ...(process.env.TEST_FILE_TIMEOUT_MS ? { fileTimeoutMs: Number(process.env.TEST_FILE_TIMEOUT_MS) } : {}),
      })
      return result.failed || result.files === 0 ? 1 : 0
    }
    default:
      return pluginCommand(command, rest)
  }
}

/** The runner lives in @armature/testing, a dev dependency: a production install has none. */
async function testRunner(): Promise<((options: { root: string; filter?: string[]; concurrency?: number; fileTimeoutMs?: number }) => Promise<{ files: number; failed: number }>) | undefined> {
  try {
    return (await import('@armature/testing' as string)).runTests
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((error as Error).message).includes('@armature/testing')) throw error
    console.error('armature test needs @armature/testing: install it with npm install --save-dev @armature/testing')
    return undefined
  }
}

async function run(command: 'start' | 'dev', args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      plugins: { type: 'string' },
      watch: { type: 'boolean' },
      config: { type: 'string' },
    },
    strict: true,
  })
  const dev = command === 'dev'
  // Signals are handled from the first moment: one during boot stops the kernel once it is up.
  let kernel: Kernel | undefined
  let signals = 0
  let stopRequested: ((kernel: Kernel) => void) | undefined
  let resolveExit: (code: number) => void = () => undefined
  const exit = new Promise<number>((resolve) => (resolveExit = resolve))
  const stop = (k: Kernel) =>
    k.stop().then(
      (report) => resolveExit(report.ok ? 0 : 1),
      (error) => {
        process.stderr.write(`armature: stop failed: ${errorMessage(error)}\n`)
        resolveExit(1)
      },
    )
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      kernel?.log.warn(`${signal} again: exiting at once`)
      process.exit(130)
    }
    if (!kernel) {
      stopRequested = stop
      return
    }
    kernel.log.info(`${signal} received: stopping (send it again to exit at once)`)
    void stop(kernel)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // A plugin's stray rejection is logged, not fatal: the other plugins keep serving.
  process.on('unhandledRejection', (reason) => (kernel ? kernel.log.error(`unhandled rejection: ${errorMessage(reason)}`) : process.stderr.write(`armature: unhandled rejection: ${errorMessage(reason)}\n`)))
  process.on('uncaughtException', (error) => (kernel ? kernel.log.error({ err: error }, `uncaught exception: ${error.message}`) : process.stderr.write(`armature: uncaught exception: ${error.message}\n`)))

  try {
    kernel = await startKernel({
      ...(values.config ? { configFile: values.config } : {}),
      overrides: {
        ...(values.plugins ? { pluginsDir: resolve(values.plugins) } : {}),
        ...(values.watch || dev ? { watch: true } : {}),
        dev,
      },
    })
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`armature: config error: ${error.message}\n`)
      return 1
    }
    process.stderr.write(`armature: cannot start: ${errorMessage(error)}\n`)
    return 1
  }
  if (stopRequested) {
    kernel.log.info('signal received during start-up: stopping')
    void stopRequested(kernel)
  }
  return exit
}

async function listPlugins(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string' }, json: { type: 'boolean' } } })
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`
  let body: { plugins: Array<Record<string, unknown>> }
  try {
    const response = await fetch(`${url}/_armature/plugins`)
    body = (await response.json()) as typeof body
  } catch (error) {
    process.stderr.write(`armature: no kernel answers at ${url}: ${errorMessage(error)}\n`)
    return 1
  }
  if (values.json) {
    console.log(JSON.stringify(body, null, 2))
    return 0
  }
  const rows = body.plugins.map((p) => [p.name, p.status, p.generation ?? '-', p.version ?? '-', (p.routes as string[]).join(' ') || '-', p.lastError ?? ''])
  printTable(['NAME', 'STATUS', 'GEN', 'VERSION', 'ROUTES', 'LAST ERROR'], rows.map((r) => r.map(String)))
  return 0
}

/** `armature <plugin> ...` runs the plugin's cli.ts: `export default { description, run(argv) }`. */
async function pluginCommand(name: string, args: string[]): Promise<number> {
  const dir = resolve(process.env.PLUGINS_DIR ?? 'plugins')
  const candidates = ['cli.ts', 'cli.mts', 'cli.js', 'cli.mjs'].map((f) => join(dir, name, f))
  const file = /^[a-z0-9-]+$/.test(name) ? candidates.find((f) => existsSync(f)) : undefined
  if (!file) {
    process.stderr.write(`armature: unknown command '${name}' (no ${join(dir, name, 'cli.ts')})\n\n${HELP.main}\n`)
    return 1
  }
  const mod = await import(pathToFileURL(file).href)
  const cli = mod.default as { run?: (argv: string[]) => Promise<number> | number }
  if (typeof cli?.run !== 'function') {
    process.stderr.write(`armature: ${file} must export default { run(argv) }\n`)
    return 1
  }
  return cli.run(args)
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
  console.log([line(header), ...rows.map(line)].join('\n'))
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`armature: ${errorMessage(error)}\n`)
    process.exit(1)
  },
)
