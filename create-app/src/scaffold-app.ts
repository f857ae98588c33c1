// Writes a new service: the app template, the chosen plugin folders, core as a vendored
// tarball, and one package.json that lists every plugin's dependencies.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ALWAYS_SKIPPED, copyTree, fillPlaceholders } from '../../core/src/cli/copy-tree.ts'
import { mergeDependencies, sortKeys, type DependencyConflict } from './dependencies.ts'
import { vendorCore, vendorTesting } from './core-package.ts'
import { prepareTarget } from './target.ts'
import { APP_TEMPLATE_DIR } from './paths.ts'
import type { CataloguePlugin, DependencyMap } from './catalogue.ts'
import type { Progress } from './progress.ts'

export interface AppPlan {
  /** Absolute target folder. */
  dir: string
  /** npm package name of the app (the folder's base name, already validated). */
  name: string
  plugins: CataloguePlugin[]
  force: boolean
}

interface AppManifest {
  name: string
  dependencies?: DependencyMap
  devDependencies?: DependencyMap
  [key: string]: unknown
}

export const CORE_PACKAGE = '@armature/core'
export const TESTING_PACKAGE = '@armature/testing'

export async function scaffoldApp(plan: AppPlan, progress: Progress): Promise<{ conflicts: DependencyConflict[] }> {
  prepareTarget(plan.dir, plan.force)

  progress.step(`copying the app template into ${plan.dir}`)
  const placeholders = { name: plan.name, plugins: pluginTable(plan.plugins) }
  const templateFiles = copyTree(APP_TEMPLATE_DIR, plan.dir, {
    skip: new Set([...ALWAYS_SKIPPED, 'package.json']),
    rename: { _gitignore: '.gitignore' },
    placeholders,
  })
  progress.done(`${templateFiles} files`)

  progress.step(`copying ${plan.plugins.length} plugin${plan.plugins.length === 1 ? '' : 's'}: ${plan.plugins.map((p) => p.name).join(', ')}`)
  let pluginFiles = 0
  for (const plugin of plan.plugins) pluginFiles += copyTree(plugin.dir, join(plan.dir, 'plugins', plugin.name))
  progress.done(`${pluginFiles} files`)

  progress.step(`packing ${CORE_PACKAGE} and ${TESTING_PACKAGE} into vendor/`)
  const [core, testing] = await Promise.all([vendorCore(plan.dir), vendorTesting(plan.dir)])
  progress.done(`${core.file}, ${testing.file}`)

  const conflicts: DependencyConflict[] = []
  const manifest = JSON.parse(fillPlaceholders(readFileSync(join(APP_TEMPLATE_DIR, 'package.json'), 'utf8'), placeholders)) as AppManifest
  let dependencies: DependencyMap = { ...manifest.dependencies, [CORE_PACKAGE]: core.spec }
  let devDependencies: DependencyMap = { ...manifest.devDependencies, [TESTING_PACKAGE]: testing.spec }
  for (const plugin of plan.plugins) {
    dependencies = mergeDependencies(dependencies, plugin.dependencies, conflicts)
    devDependencies = mergeDependencies(devDependencies, plugin.devDependencies, conflicts)
  }
  // A package needed at run time is not also listed as a dev dependency.
  devDependencies = sortKeys(Object.fromEntries(Object.entries(devDependencies).filter(([name]) => !(name in dependencies))))
  writeFileSync(join(plan.dir, 'package.json'), JSON.stringify({ ...manifest, name: plan.name, dependencies, devDependencies }, null, 2) + '\n')
  for (const c of conflicts) progress.detail(`${c.name}: plugins ask for ${c.kept} and ${c.dropped}; using ${c.kept}`)
  return { conflicts }
}

function pluginTable(plugins: CataloguePlugin[]): string {
  return ['| plugin | what it does |', '|---|---|', ...plugins.map((p) => `| [${p.name}](plugins/${p.name}) | ${p.description} |`)].join('\n')
}
