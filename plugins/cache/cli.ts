// `armature cache ...`: view what a running service or a data folder holds.
// Also runnable alone: node --import tsx plugins/cache/cli.ts ls
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runCli } from './src/cli/run.ts'

export default {
  description: 'view the cache: ls, get, stats, dump (over HTTP with --url, offline with --file)',
  run: (argv: string[]): Promise<number> => runCli(argv),
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invokedDirectly) process.exitCode = await runCli(process.argv.slice(2))
