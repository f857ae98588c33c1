// `armature start | dev | plugins | test | new plugin | <plugin> ...`
// Exit codes: 0 done, 1 a failure reported as one line, 2 a usage error (an unknown command
// or flag, a missing argument).
// Each command's module is imported when it runs, so --version, --help and a usage error do
// not load the kernel and its servers.
import { errorMessage } from './errors.ts'
import { CliError, EXIT_FAILURE, EXIT_USAGE, exitCodeFor, UsageError } from './cli/cli-errors.ts'
import { HELP } from './cli/help.ts'
import { coreVersion } from './cli/version.ts'

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined) {
    process.stderr.write(`${HELP.main}\n`)
    return EXIT_USAGE
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main)
    return 0
  }
  if (command === '--version' || command === '-v') {
    console.log(coreVersion())
    return 0
  }
  if (command.startsWith('-')) throw new UsageError(`unknown option '${command}'; see armature --help`)
  if ((rest.includes('--help') || rest.includes('-h')) && HELP[command]) {
    console.log(HELP[command])
    return 0
  }
  switch (command) {
    case 'start':
    case 'dev':
      return (await import('./cli/start.ts')).start(command, rest)
    case 'plugins':
      return (await import('./cli/list-plugins.ts')).listPlugins(rest)
    case 'test':
      return (await import('./cli/test-command.ts')).testCommand(rest)
    case 'new':
      return (await import('./cli/new-plugin.ts')).newCommand(rest)
    default:
      return (await import('./cli/plugin-command.ts')).pluginCommand(command, rest)
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`armature: ${errorMessage(error)}\n`)
    process.exit(error instanceof CliError ? exitCodeFor(error) : EXIT_FAILURE)
  },
)
