// Writes a blank plugin from templates/plugin into a drop-in folder. A running
// `armature dev` picks the new folder up as soon as its files exist.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { mergeDependencies } from './dependencies.ts'
import type { DependencyMap } from './catalogue.ts'
import { copyTree } from './copy.ts'
import { TargetNotEmptyError } from './errors.ts'
import { PLUGIN_TEMPLATE_DIR } from './paths.ts'
import type { Progress } from './progress.ts'

export interface PluginPlan {
  name: string
  /** Absolute drop-in folder. */
  pluginsDir: string
  force: boolean
}

export function scaffoldPlugin(plan: PluginPlan, progress: Progress): string {
  const dir = join(plan.pluginsDir, plan.name)
  if (existsSync(dir) && readdirSync(dir).length && !plan.force) throw new TargetNotEmptyError(dir)
  progress.step(`writing plugin '${plan.name}' into ${dir}`)
  const files = copyTree(PLUGIN_TEMPLATE_DIR, dir, { placeholders: { name: plan.name, NAME: envPrefix(plan.name) } })
  progress.done(`${files} files`)
  addDependenciesToApp(dir, progress)
  return dir
}

/**
 * In a generated app (a workspaces root above the drop-in folder), the app's package.json
 * lists every plugin's dependencies; the new plugin's are added so the two stay in step.
 */
function addDependenciesToApp(pluginDir: string, progress: Progress): void {
  const appManifestPath = join(dirname(dirname(pluginDir)), 'package.json')
  if (!existsSync(appManifestPath)) return
  const app = JSON.parse(readFileSync(appManifestPath, 'utf8')) as { workspaces?: unknown; dependencies?: DependencyMap }
  if (!Array.isArray(app.workspaces)) return
  const plugin = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8')) as { dependencies?: DependencyMap }
  const missing = Object.keys(plugin.dependencies ?? {}).filter((name) => !app.dependencies?.[name])
  if (missing.length === 0) return
  app.dependencies = mergeDependencies(app.dependencies ?? {}, plugin.dependencies ?? {})
  writeFileSync(appManifestPath, JSON.stringify(app, null, 2) + '\n')
  progress.detail(`added ${missing.join(', ')} to ${appManifestPath}; run npm install`)
}

/** The kernel reads a plugin's options from `<NAME>_<OPTION>`, dashes as underscores. */
function envPrefix(name: string): string {
  return name.replace(/-/g, '_').toUpperCase()
}
