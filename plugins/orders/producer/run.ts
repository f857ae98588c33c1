// The command line of the producer: parse, boot a kernel of its own with the producer plugin
// (and the plugin that provides the queue backend when AMQP_URL is not set), produce, report.
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Faker, en } from '@faker-js/faker'
import { startKernel } from '@armature/core'
import { produce, type ProduceSummary } from '../src/producer.ts'

const USAGE = `usage: armature orders produce --count N [--rate R] [--invalid-ratio x] [--duplicate-ratio y]
                                [--queue q] [--log file] [--seed n] [--backend-plugin dir]

  --count N            orders to publish (1-10000000)
  --rate R             orders per second; 0 (default) as fast as confirms come back
  --invalid-ratio x    share of orders broken on purpose (0-1, default 0)
  --duplicate-ratio y  share re-sending an order already published (0-1, default 0)
  --queue q            queue to publish to (default ORDERS_QUEUE or orders)
  --log file           append one line per confirmed order: <kind> <order_uid>
  --seed n             faker's seed, for a repeatable stream
  --backend-plugin dir without AMQP_URL: the plugin providing the queue backend (default plugins/pubsub)

The orders go through the queue port: RabbitMQ when AMQP_URL is set, else the backend plugin
(the built-in broker; set PUBSUB_URL to reach a running one).`

class UsageError extends Error {}

interface Args {
  count: number
  rate: number
  invalidRatio: number
  duplicateRatio: number
  queue: string
  log: string | undefined
  seed: number | undefined
  backendPlugin: string
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args: Args
  try {
    if (argv[0] !== 'produce') throw new UsageError(argv[0] === undefined || argv[0] === '--help' ? '' : `unknown subcommand '${argv[0]}'`)
    args = parse(argv.slice(1), env)
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error
    if (error.message) process.stderr.write(`armature orders: ${error.message}\n`)
    process.stderr.write(`${USAGE}\n`)
    return 2
  }
  return run(args, env)
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string' },
      rate: { type: 'string' },
      'invalid-ratio': { type: 'string' },
      'duplicate-ratio': { type: 'string' },
      queue: { type: 'string' },
      log: { type: 'string' },
      seed: { type: 'string' },
      'backend-plugin': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const number = (name: string, value: string | undefined, fallback: number, min: number, max: number, integer = false) => {
    if (value === undefined) return fallback
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new UsageError(`--${name} ${value}: must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`)
    return n
  }
  if (values.count === undefined) throw new UsageError('--count is required')
  const args: Args = {
    count: number('count', values.count, 0, 1, 10_000_000, true),
    rate: number('rate', values.rate, 0, 0, 1_000_000),
    invalidRatio: number('invalid-ratio', values['invalid-ratio'], 0, 0, 1),
    duplicateRatio: number('duplicate-ratio', values['duplicate-ratio'], 0, 0, 1),
    queue: values.queue ?? env.ORDERS_QUEUE ?? 'orders',
    log: values.log,
    seed: values.seed === undefined ? undefined : number('seed', values.seed, 0, 0, 2 ** 31, true),
    backendPlugin: resolve(values['backend-plugin'] ?? join(env.PLUGINS_DIR ?? 'plugins', 'pubsub')),
  }
  if (args.invalidRatio + args.duplicateRatio > 1) throw new UsageError('--invalid-ratio and --duplicate-ratio add up to more than 1')
  return args
}

async function run(args: Args, env: NodeJS.ProcessEnv): Promise<number> {
  const plugins = [fileURLToPath(new URL('./orders-producer.ts', import.meta.url))]
  if (!env.AMQP_URL) {
    if (!existsSync(args.backendPlugin)) {
      process.stderr.write(`armature orders: no queue backend: set AMQP_URL (RabbitMQ), or give --backend-plugin (no ${args.backendPlugin})\n`)
      return 1
    }
    plugins.unshift(args.backendPlugin)
  }
  const dir = mkdtempSync(join(tmpdir(), 'armature-orders-produce-'))
  const kernel = await startKernel({
    env: {
      ...env,
      PORT: '0',
      HTTPS_PORT: '0',
      GRPC_PORT: '0',
      GRPCS_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      LOG_FILE: join(dir, 'produce.log'),
      ORDERS_PRODUCER_QUEUE: args.queue,
    },
    pluginPaths: plugins,
    scanPluginsDir: false,
    terminalLogLevel: env.LOG_LEVEL ?? 'warn',
    prettyLogs: process.stderr.isTTY,
  })
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const url = `http://127.0.0.1:${kernel.addresses.http!.port}/orders-producer/publish`
  if (args.log) writeFileSync(args.log, '', { flag: 'a' })
  const tty = process.stderr.isTTY
  let lastProgress = 0
  const progress = (totals: ProduceSummary, done = false) => {
    const rate = totals.elapsedMs > 0 ? Math.round((totals.published / totals.elapsedMs) * 1000) : 0
    const line = `${totals.published}/${args.count} confirmed (${totals.valid} valid, ${totals.duplicate} duplicate, ${totals.invalid} invalid), ${rate}/s`
    if (tty) process.stderr.write(`\r${line}${done ? '\n' : ''}`)
    else if (done || Date.now() - lastProgress >= 1000) process.stderr.write(`${line}\n`)
    lastProgress = Date.now()
  }
  try {
    const faker = new Faker({ locale: [en] })
    if (args.seed !== undefined) faker.seed(args.seed)
    const summary = await produce({
      count: args.count,
      rate: args.rate,
      invalidRatio: args.invalidRatio,
      duplicateRatio: args.duplicateRatio,
      faker,
      signal: stop.signal,
      async publishBatch(bodies) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bodies) })
        if (!response.ok) throw new Error(`publish failed: ${response.status} ${(await response.text()).slice(0, 300)}`)
      },
      onConfirmed(batch, totals) {
        if (args.log) appendFileSync(args.log, batch.map((p) => `${p.kind} ${p.uid ?? '-'}\n`).join(''))
        progress(totals)
      },
    })
    progress(summary, true)
    const seconds = (summary.elapsedMs / 1000).toFixed(2)
    process.stdout.write(
      `published ${summary.published} orders to '${args.queue}' (${summary.valid} valid, ${summary.duplicate} duplicate, ${summary.invalid} invalid) in ${seconds} s, every one confirmed${stop.signal.aborted ? ' (interrupted)' : ''}\n`,
    )
    return stop.signal.aborted ? 130 : 0
  } catch (error) {
    process.stderr.write(`\narmature orders: ${(error as Error).message}\n`)
    return 1
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await kernel.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
