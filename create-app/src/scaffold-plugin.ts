// Writes a blank plugin from templates/plugin into a drop-in folder. A running
// `armature dev` picks the new folder up as soon as its files exist.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
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
  return dir
}

/** The kernel reads a plugin's options from `<NAME>_<OPTION>`, dashes as underscores. */
function envPrefix(name: string): string {
  return name.replace(/-/g, '_').toUpperCase()
}
