// Turns argv into one command. Parsing knows nothing of the file system or the catalogue:
// it only checks the shape of what was typed.
import { parseArgs } from 'node:util'
import { UsageError } from './errors.ts'

export interface AppCommand {
  kind: 'app'
  /** Target folder; its base name becomes the package name. Missing means "ask". */
  dir: string | undefined
  /** Plugin names as typed; undefined means "ask" (or the --yes default). */
  plugins: string[] | undefined
  all: boolean
  install: boolean
  force: boolean
  yes: boolean
}

/** `create-armature plugin ...`: the kernel's `armature new plugin ...`, parsed there. */
export interface PluginCommand {
  kind: 'plugin'
  args: string[]
}

export type Command = AppCommand | PluginCommand | { kind: 'help' } | { kind: 'version' }

export const USAGE = `usage:
  create-armature <dir> [--plugins a,b,c | --all] [--no-install] [--force] [--yes]
  create-armature plugin <name> [--dir plugins] [--force] [--no-install]
  create-armature --version

  --plugins a,b,c  the shipped plugins to copy into the new service (with the plugins they use)
  --all            every shipped plugin
  --no-install     write the files only; run npm install yourself
  --force          write into a folder that is not empty
  --yes            never ask; unspecified choices take their defaults (plugins: hello)

  plugin <name>    a blank plugin in the app in this folder, the same as npx armature new plugin <name>

exit codes: 0 done, 1 failed, 2 usage error`

export function parseCommand(argv: string[]): Command {
  if (argv[0] === 'plugin') return { kind: 'plugin', args: argv.slice(1) }
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        plugins: { type: 'string' },
        all: { type: 'boolean', default: false },
        // node:util parseArgs on Node 20 has no negated booleans, so --no-install is its own flag.
        'no-install': { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see create-armature --help`)
  }
  const { values, positionals } = parsed
  if (values.help) return { kind: 'help' }
  if (values.version) return { kind: 'version' }

  if (positionals.length > 1) throw new UsageError(`create-armature takes one target folder, got ${positionals.join(' ')}`)
  if (values.all && values.plugins !== undefined) throw new UsageError('give either --plugins or --all, not both')
  let plugins: string[] | undefined
  if (values.plugins !== undefined) {
    plugins = [
      ...new Set(
        values.plugins
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ),
    ]
    if (plugins.length === 0) throw new UsageError('--plugins needs at least one name, e.g. --plugins hello,cache')
  }
  return {
    kind: 'app',
    dir: positionals[0],
    plugins,
    all: values.all,
    install: !values['no-install'],
    force: values.force,
    yes: values.yes,
  }
}
