// The shipped plugins: every folder in the repository's plugins/ with a package.json.
// Read on each run, so a new plugin folder is offered without touching the generator.
// A plugin that `uses` others (definePlugin({ uses: ['db'] }) in its index.ts) brings them along.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PLUGINS_DIR } from './paths.ts'
import { MissingUsedPluginError, UnknownPluginError } from './errors.ts'

export type DependencyMap = Record<string, string>

export interface CataloguePlugin {
  /** The folder name, which is also the plugin's name at run time. */
  name: string
  packageName: string
  description: string
  dir: string
  dependencies: DependencyMap
  devDependencies: DependencyMap
  /** The plugins this one requires (`uses`, without the optional `'name?'` ones): it fails without them. */
  uses: string[]
}

interface PluginManifest {
  name?: string
  description?: string
  dependencies?: DependencyMap
  devDependencies?: DependencyMap
}

export function readCatalogue(pluginsDir: string = PLUGINS_DIR): CataloguePlugin[] {
  if (!existsSync(pluginsDir)) return []
  return readdirSync(pluginsDir)
    .filter((entry) => !entry.startsWith('.') && statSync(join(pluginsDir, entry)).isDirectory())
    .filter((entry) => existsSync(join(pluginsDir, entry, 'package.json')))
    .sort()
    .map((entry) => {
      const dir = join(pluginsDir, entry)
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PluginManifest
      return {
        name: entry,
        packageName: manifest.name ?? `@armature/plugin-${entry}`,
        description: manifest.description ?? '',
        dir,
        dependencies: manifest.dependencies ?? {},
        devDependencies: manifest.devDependencies ?? {},
        uses: readUses(join(dir, 'index.ts')),
      }
    })
}

/**
 * The names in the plugin definition's `uses: [...]`, read from the source without running it
 * (running it would need the plugin's dependencies installed). Only a line that starts with
 * `uses:` counts, so a comment that mentions one does not.
 */
export function readUses(indexFile: string): string[] {
  if (!existsSync(indexFile)) return []
  const list = /^\s*uses:\s*\[([^\]]*)\]/m.exec(readFileSync(indexFile, 'utf8'))?.[1] ?? ''
  // An optional use (`'name?'`) starts without the other plugin, so it is not pulled in.
  return [...list.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => (m[1] ?? m[2])!).filter((name) => !name.endsWith('?'))
}

/** The catalogue entries for the given names, in the catalogue's order; unknown names throw. */
export function selectPlugins(catalogue: CataloguePlugin[], names: string[]): CataloguePlugin[] {
  const known = new Set(catalogue.map((p) => p.name))
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length) throw new UnknownPluginError(unknown, [...known])
  return catalogue.filter((p) => names.includes(p.name))
}

/**
 * The chosen plugins plus every plugin they use, directly or through another, in the
 * catalogue's order; `added` names each plugin pulled in and the chosen or added ones using it.
 */
export function withUsedPlugins(catalogue: CataloguePlugin[], chosen: CataloguePlugin[]): { plugins: CataloguePlugin[]; added: Map<string, string[]> } {
  const byName = new Map(catalogue.map((p) => [p.name, p]))
  const included = new Set(chosen.map((p) => p.name))
  const added = new Map<string, string[]>()
  const pending = [...chosen]
  while (pending.length) {
    const plugin = pending.shift()!
    for (const used of plugin.uses) {
      const target = byName.get(used)
      if (!target) throw new MissingUsedPluginError(plugin.name, used, [...byName.keys()])
      if (!included.has(used)) {
        included.add(used)
        pending.push(target)
      }
      if (!chosen.includes(target)) added.set(used, [...(added.get(used) ?? []), plugin.name])
    }
  }
  return { plugins: catalogue.filter((p) => included.has(p.name)), added }
}
