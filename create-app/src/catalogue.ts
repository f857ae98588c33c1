// The shipped plugins: every folder in the repository's plugins/ with a package.json.
// Read on each run, so a new plugin folder is offered without touching the generator.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PLUGINS_DIR } from './paths.ts'
import { UnknownPluginError } from './errors.ts'

export type DependencyMap = Record<string, string>

export interface CataloguePlugin {
  /** The folder name, which is also the plugin's name at run time. */
  name: string
  packageName: string
  description: string
  dir: string
  dependencies: DependencyMap
  devDependencies: DependencyMap
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
      }
    })
}

/** The catalogue entries for the given names, in the catalogue's order; unknown names throw. */
export function selectPlugins(catalogue: CataloguePlugin[], names: string[]): CataloguePlugin[] {
  const known = new Set(catalogue.map((p) => p.name))
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length) throw new UnknownPluginError(unknown, [...known])
  return catalogue.filter((p) => names.includes(p.name))
}
