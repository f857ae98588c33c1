// `armature pubsub ...`: topics, produce, consume, groups and lag against a running broker.
// Also runnable alone: node --import tsx plugins/pubsub/cli.ts topics
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runCli } from './src/cli/run.ts'

export default {
  description: 'the broker from the terminal: topics, produce (stdin lines), consume (to stdout), groups, lag (--url grpc://host:port)',
  run: (argv: string[]): Promise<number> => runCli(argv),
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invokedDirectly) process.exitCode = await runCli(process.argv.slice(2))
