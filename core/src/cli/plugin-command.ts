// `armature <plugin> ...` runs the plugin's cli.ts: `export default { description, run(argv) }`.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PLUGIN_NAME } from '../plugin.ts'
import { CliError, UsageError } from './cli-errors.ts'

export async function pluginCommand(name: string, args: string[]): Promise<number> {
  const dir = resolve(process.env.PLUGINS_DIR ?? 'plugins')
  const candidates = ['cli.ts', 'cli.mts', 'cli.js', 'cli.mjs'].map((f) => join(dir, name, f))
  const file = PLUGIN_NAME.test(name) ? candidates.find((f) => existsSync(f)) : undefined
  if (!file) throw new UsageError(`unknown command '${name}' (not a command, and no ${join(dir, name, 'cli.ts')}); see armature --help`)
  const mod = await import(pathToFileURL(file).href)
  const cli = mod.default as { run?: (argv: string[]) => Promise<number> | number }
  if (typeof cli?.run !== 'function') throw new CliError(`${file} must export default { run(argv) }`)
  return cli.run(args)
}
