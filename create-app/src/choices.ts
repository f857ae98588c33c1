// Settles what the command line left open: from flags, from --yes defaults, or by asking.
// Without a terminal (or with CI set) nothing is asked, and a missing choice is an error.
import { MissingChoiceError } from './errors.ts'
import { askPlugins, askTargetDir, canPrompt, intro } from './prompts.ts'
import type { AppCommand } from './args.ts'
import type { CataloguePlugin } from './catalogue.ts'

export const DEFAULT_PLUGINS = ['hello']

export interface AppChoices {
  dir: string
  pluginNames: string[]
}

export async function settleChoices(command: AppCommand, catalogue: CataloguePlugin[], interactive: boolean = canPrompt()): Promise<AppChoices> {
  let dir = command.dir
  let pluginNames = command.all ? catalogue.map((p) => p.name) : command.plugins
  if (command.yes) pluginNames ??= DEFAULT_PLUGINS
  if (dir !== undefined && pluginNames !== undefined) return { dir, pluginNames }

  if (!interactive || command.yes) {
    const missing = [...(dir === undefined ? ['<dir>'] : []), ...(pluginNames === undefined ? ['--plugins or --all'] : [])]
    throw new MissingChoiceError(missing)
  }
  intro()
  dir ??= await askTargetDir()
  pluginNames ??= await askPlugins(catalogue)
  return { dir, pluginNames }
}
