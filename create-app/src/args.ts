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

export interface PluginCommand {
  kind: 'plugin'
  name: string | undefined
  /** The drop-in folder the plugin is written into. */
  dir: string
  force: boolean
}

export type Command = AppCommand | PluginCommand | { kind: 'help' }

export const USAGE = `usage:
  create-app <dir> [--plugins a,b,c | --all] [--no-install] [--force] [--yes]
  create-app plugin <name> [--dir plugins] [--force]

  --plugins a,b,c  the shipped plugins to copy into the new service
  --all            every shipped plugin
  --no-install     write the files only; run npm install yourself
  --force          write into a folder that is not empty
  --yes            never ask; unspecified choices take their defaults (plugins: hello)
  --dir DIR        (plugin) the drop-in folder to write into, default ./plugins`

export function parseCommand(argv: string[]): Command {
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
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see create-app --help`)
  }
  const { values, positionals } = parsed
  if (values.help) return { kind: 'help' }

  if (positionals[0] === 'plugin') {
    if (positionals.length > 2) throw new UsageError(`create-app plugin takes one name, got ${positionals.slice(1).join(' ')}`)
    for (const flag of ['plugins', 'all', 'no-install', 'yes'] as const) {
      if (values[flag]) throw new UsageError(`--${flag} applies to a new service, not to create-app plugin`)
    }
    return { kind: 'plugin', name: positionals[1], dir: values.dir ?? 'plugins', force: values.force }
  }

  if (positionals.length > 1) throw new UsageError(`create-app takes one target folder, got ${positionals.join(' ')}`)
  if (values.dir !== undefined) throw new UsageError('--dir applies to create-app plugin; for a new service give the folder as the argument')
  if (values.all && values.plugins !== undefined) throw new UsageError('give either --plugins or --all, not both')
  let plugins: string[] | undefined
  if (values.plugins !== undefined) {
    plugins = [...new Set(values.plugins.split(',').map((p) => p.trim()).filter(Boolean))]
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
