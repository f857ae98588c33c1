// `armature orders produce ...`: fake orders published through the queue port with confirms.
// Also runnable alone: node --import tsx plugins/orders/cli.ts produce --count 10
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runCli } from './producer/run.ts'

export default {
  description: 'produce fake orders: produce --count N --rate R [--invalid-ratio x] [--duplicate-ratio y] [--queue q] [--log file]',
  run: (argv: string[]): Promise<number> => runCli(argv),
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invokedDirectly) process.exitCode = await runCli(process.argv.slice(2))
