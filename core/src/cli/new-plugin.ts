// `armature new plugin <name>`: a blank plugin from the template this package ships
// (templates/plugin), written into the drop-in folder. When that folder is an npm workspace
// of the project above it (a generated app), the project's package.json gains the plugin's
// dependencies and npm install brings package-lock.json up to date, since npm ci refuses a
// lock file that lacks a workspace.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PLUGIN_NAME } from '../plugin.ts'
import { CliError, UsageError } from './cli-errors.ts'
import { copyTree } from './copy-tree.ts'
import { displayPath } from './display-path.ts'
import { parseFlags } from './parse-flags.ts'

export const PLUGIN_TEMPLATE_DIR = fileURLToPath(new URL('../../templates/plugin', import.meta.url))
/** How a new plugin's workspace (and a new app, in the generator) gets installed. */
export const NPM_INSTALL = ['install', '--no-audit', '--no-fund']

type DependencyMap = Record<string, string>

interface Manifest {
  workspaces?: unknown
  dependencies?: DependencyMap
  [key: string]: unknown
}

/** The project whose npm workspaces include the new plugin's folder. */
interface Project {
  dir: string
  manifest: Manifest
}

export interface NewPluginPlan {
  name: string
  /** Absolute drop-in folder. */
  pluginsDir: string
  force: boolean
  install: boolean
}

const out = (text: string) => void process.stdout.write(text)

export async function newCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    'new',
    args,
    {
      dir: { type: 'string' },
      force: { type: 'boolean', default: false },
      // node:util parseArgs on Node 20 has no negated booleans, so --no-install is its own flag.
      'no-install': { type: 'boolean', default: false },
    },
    true,
  )
  const [kind, name, ...extra] = positionals
  if (kind === undefined) throw new UsageError('new needs what to create: armature new plugin <name>')
  if (kind !== 'plugin') throw new UsageError(`new creates a plugin, not '${kind}': armature new plugin <name>`)
  if (name === undefined) throw new UsageError('new plugin needs a name, e.g. armature new plugin notes')
  if (extra.length) throw new UsageError(`new plugin takes one name, got '${[name, ...extra].join(' ')}'`)
  const pluginsDir = resolve(values.dir ?? (process.env.PLUGINS_DIR || 'plugins'))
  await newPlugin({ name, pluginsDir, force: values.force, install: !values['no-install'] })
  return 0
}

export async function newPlugin(plan: NewPluginPlan): Promise<string> {
  if (!PLUGIN_NAME.test(plan.name)) throw new CliError(`invalid plugin name '${plan.name}'; plugin names match [a-z0-9-]+ (for example 'notes' or 'rate-limit')`)
  const dir = join(plan.pluginsDir, plan.name)
  const shown = displayPath(dir)
  if (existsSync(dir) && readdirSync(dir).length && !plan.force) throw new CliError(`${shown} exists and is not empty; choose another name or pass --force to write into it`)
  const files = copyTree(PLUGIN_TEMPLATE_DIR, dir, { placeholders: { name: plan.name, NAME: envPrefix(plan.name) } })
  out(`- wrote plugin '${plan.name}' into ${shown} (${files} files)\n`)

  const project = workspaceProject(plan.pluginsDir)
  if (project) {
    const added = addDependencies(project, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest)
    if (added.length) out(`- added ${added.join(', ')} to ${displayPath(join(project.dir, 'package.json'))}\n`)
    const where = project.dir === process.cwd() ? '' : ` in ${displayPath(project.dir)}`
    if (plan.install && existsSync(join(project.dir, 'package-lock.json'))) {
      out(`- adding the new workspace to package-lock.json: npm ${NPM_INSTALL.join(' ')}${where}\n`)
      await npmInstall(project.dir)
    } else {
      out(`- run npm install${where} before npm ci: package-lock.json does not list the new workspace yet\n`)
    }
  }
  out(`\nCreated plugin ${plan.name} in ${shown}. A running \`npm run dev\` serves it at /${plan.name} now.\n`)
  out(`  npm test -- ${plan.name}   # its wire test\n`)
  return dir
}

/** The package.json above the drop-in folder, when its workspaces cover the folder's plugins. */
function workspaceProject(pluginsDir: string): Project | undefined {
  const dir = dirname(pluginsDir)
  const path = join(dir, 'package.json')
  if (!existsSync(path)) return undefined
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest
  const folder = relative(dir, pluginsDir).split(sep).join('/')
  const covered = Array.isArray(manifest.workspaces) && manifest.workspaces.some((w) => typeof w === 'string' && w.replace(/^\.\//, '') === `${folder}/*`)
  return covered ? { dir, manifest } : undefined
}

/**
 * A generated app (it depends on @armature/core) lists every plugin's dependencies in its own
 * package.json; the new plugin's are added when missing, keeping a range the app already has.
 */
function addDependencies(project: Project, plugin: Manifest): string[] {
  const app = project.manifest.dependencies
  if (!app?.['@armature/core']) return []
  const missing = Object.entries(plugin.dependencies ?? {}).filter(([name]) => !(name in app))
  if (missing.length === 0) return []
  const dependencies = Object.fromEntries([...Object.entries(app), ...missing].sort(([a], [b]) => a.localeCompare(b)))
  writeFileSync(join(project.dir, 'package.json'), JSON.stringify({ ...project.manifest, dependencies }, null, 2) + '\n')
  return missing.map(([name]) => name)
}

function npmInstall(cwd: string): Promise<void> {
  return new Promise((resolveInstall, rejectInstall) => {
    const child = spawn('npm', NPM_INSTALL, { cwd, stdio: ['ignore', 'inherit', 'inherit'] })
    const failed = (why: string) => new CliError(`npm ${NPM_INSTALL.join(' ')} ${why} in ${cwd}; the plugin is written: fix the cause and run npm install there`)
    child.on('error', (error) => rejectInstall(failed(`could not run (${error.message})`)))
    child.on('close', (code) => (code === 0 ? resolveInstall() : rejectInstall(failed(`failed (exit ${code})`))))
  })
}

/** The kernel reads a plugin's options from `<NAME>_<OPTION>`, dashes as underscores. */
function envPrefix(name: string): string {
  return name.replace(/-/g, '_').toUpperCase()
}
