// Finds plugins in the drop-in folder, bundles each with esbuild into one content-hashed
// module, imports it, and watches the folder for changes.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, extname, join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, type Message } from 'esbuild'
import { watch as chokidar } from 'chokidar'
import { PLUGIN_NAME, type PluginDefinition } from './plugin.ts'

export interface PluginSource {
  name: string
  /** The file esbuild starts from. */
  entry: string
  /** The folder (or single file) whose changes mean a new generation. */
  root: string
}

export interface Rejected {
  path: string
  error: string
}

const INDEX_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs']
const FILE_PLUGIN = /\.(ts|mts|js|mjs)$/

export function checkName(name: string, where: string): void {
  if (!PLUGIN_NAME.test(name)) {
    throw new Error(`${where}: invalid plugin name ${JSON.stringify(name)}; names must match [a-z0-9-]+`)
  }
}

/** Lists the plugins in a drop-in folder; malformed entries are returned as rejected, not thrown. */
export function discover(dir: string): { sources: PluginSource[]; rejected: Rejected[] } {
  const sources: PluginSource[] = []
  const rejected: Rejected[] = []
  if (!existsSync(dir)) return { sources, rejected }
  const realDir = realpathSync(dir)
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry === 'node_modules') continue
    const path = join(dir, entry)
    try {
      const source = sourceAt(path, realDir)
      if (source) sources.push(source)
    } catch (error) {
      rejected.push({ path, error: (error as Error).message })
    }
  }
  return { sources, rejected }
}

/** The plugin at one path: a folder with an index file, or a single `<name>.ts` file. */
export function sourceAt(path: string, containingDir?: string): PluginSource | undefined {
  const abs = resolve(path)
  if (!existsSync(abs)) return undefined
  if (containingDir) {
    const real = realpathSync(abs)
    if (real !== containingDir && !real.startsWith(containingDir + sep)) {
      throw new Error(`${abs}: resolves to ${real}, outside the plugins folder; refused`)
    }
  }
  const stats = statSync(abs)
  if (stats.isDirectory()) {
    const index = INDEX_FILES.map((f) => join(abs, f)).find((f) => existsSync(f))
    if (!index) return undefined
    checkName(basename(abs), abs)
    return { name: basename(abs), entry: index, root: abs }
  }
  if (stats.isFile() && FILE_PLUGIN.test(abs) && !abs.endsWith('.d.ts')) {
    const name = basename(abs, extname(abs))
    if (name.endsWith('.test')) return undefined
    checkName(name, abs)
    return { name, entry: abs, root: abs }
  }
  return undefined
}

export interface Bundle {
  file: string
  hash: string
}

/** Bundles a plugin into one ESM file named by its content hash. */
export async function bundle(source: PluginSource, buildDir: string): Promise<Bundle> {
  let code: Uint8Array
  try {
    const result = await build({
      entryPoints: [source.entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      write: false,
      logLevel: 'silent',
    })
    code = result.outputFiles[0]!.contents
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors
    if (errors?.length) throw new Error(`build failed: ${errors.map(formatMessage).join('; ')}`, { cause: error })
    throw error
  }
  // Files read at run time (the proto/ folder) are part of what makes a new generation.
  const digest = createHash('sha256').update(code)
  const protoDir = join(source.root, 'proto')
  if (source.root !== source.entry && existsSync(protoDir)) {
    for (const file of readdirSync(protoDir, { recursive: true }).map(String).sort()) {
      const path = join(protoDir, file)
      if (statSync(path).isFile()) digest.update(file).update(readFileSync(path))
    }
  }
  const hash = digest.digest('hex').slice(0, 16)
  mkdirSync(buildDir, { recursive: true })
  const file = join(buildDir, `${source.name}-${hash}.mjs`)
  if (!existsSync(file)) writeFileSync(file, code)
  return { file, hash }
}

/** Imports a bundle; the generation in the URL gives every reload its own module instance. */
export async function importPlugin(bundleFile: string, generation: number): Promise<PluginDefinition<any>> {
  const mod = await import(`${pathToFileURL(bundleFile).href}?generation=${generation}`)
  const definition = mod.default
  if (!definition || typeof definition !== 'object' || typeof definition.setup !== 'function') {
    throw new Error('the module must `export default definePlugin({ name, setup })`')
  }
  return definition
}

export function removeBundle(file: string): void {
  rmSync(file, { force: true })
}

function formatMessage(message: Message): string {
  const at = message.location ? `${message.location.file}:${message.location.line}:${message.location.column}: ` : ''
  return `${at}${message.text}`
}

export interface Watcher {
  /** Resolves once the initial scan is done and changes are being reported. */
  ready: Promise<void>
  close(): Promise<void>
}

/**
 * Watches the drop-in folder (and any single plugin paths) and reports which plugin changed.
 * Editors save in several writes, so changes are debounced per plugin.
 */
export function watchPlugins(dirs: string[], paths: string[], onChange: (name: string, root: string) => void, debounceMs = 60): Watcher {
  const timers = new Map<string, NodeJS.Timeout>()
  const watcher = chokidar([...dirs, ...paths], {
    ignoreInitial: true,
    ignored: (path: string) => /(^|[/\\])(node_modules|\.armature|\.git)([/\\]|$)/.test(path),
  })
  const fire = (changed: string) => {
    const target = owner(changed)
    if (!target) return
    clearTimeout(timers.get(target.name))
    timers.set(
      target.name,
      setTimeout(() => {
        timers.delete(target.name)
        onChange(target.name, target.root)
      }, debounceMs),
    )
  }
  const owner = (changed: string): { name: string; root: string } | undefined => {
    for (const path of paths) {
      if (changed === path || changed.startsWith(path + sep)) {
        return { name: basename(path, extname(path)), root: path }
      }
    }
    for (const dir of dirs) {
      const rel = relative(dir, changed)
      if (!rel || rel.startsWith('..')) continue
      const first = rel.split(sep)[0]!
      const root = join(dir, first)
      if (rel === first && FILE_PLUGIN.test(first)) return { name: basename(first, extname(first)), root }
      return { name: first, root }
    }
    return undefined
  }
  watcher.on('all', (_event, path) => fire(resolve(path)))
  const ready = new Promise<void>((resolveReady) => watcher.once('ready', () => resolveReady()))
  return {
    ready,
    async close() {
      for (const timer of timers.values()) clearTimeout(timer)
      await watcher.close()
    },
  }
}

/** Where plugins come from: the drop-in folder (unless turned off) and explicit paths. */
export interface PluginPlaces {
  pluginsDir: string
  pluginPaths: string[]
  scanPluginsDir: boolean
}

/** Every plugin source now; an explicit path that is no plugin is a config error (thrown by `refuse`). */
export function findSources(places: PluginPlaces, onRejected: (rejected: Rejected) => void, refuse: (path: string) => Error): PluginSource[] {
  const sources = new Map<string, PluginSource>()
  if (places.scanPluginsDir) {
    const found = discover(places.pluginsDir)
    for (const rejected of found.rejected) onRejected(rejected)
    for (const source of found.sources) sources.set(source.name, source)
  }
  for (const path of places.pluginPaths) {
    const source = sourceAt(path)
    if (!source) throw refuse(path)
    sources.set(source.name, source)
  }
  return [...sources.values()]
}

/** Where a plugin's source is now: an explicit path, or the drop-in folder. */
export function locate(places: PluginPlaces, name: string): PluginSource | undefined {
  for (const path of places.pluginPaths) {
    const source = sourceAt(path)
    if (source?.name === name) return source
  }
  if (!places.scanPluginsDir) return undefined
  const dir = places.pluginsDir
  for (const candidate of [join(dir, name), ...['.ts', '.mts', '.js', '.mjs'].map((ext) => join(dir, name + ext))]) {
    const source = sourceAt(candidate, existsSync(dir) ? realpathSafe(dir) : undefined)
    if (source) return source
  }
  return undefined
}

function realpathSafe(dir: string): string {
  try {
    return realpathSync(dir)
  } catch {
    return dir
  }
}

let buildFolders = 0

/** A build folder of this kernel's own under `buildDir`, so parallel kernels never share a file. */
export function buildFolder(buildDir: string): string {
  return join(buildDir, `${process.pid}-${++buildFolders}`)
}

/** Removes build folders left by kernels that no longer run (a kill -9 leaves them behind). */
export function sweepStaleBuilds(buildDir: string): void {
  if (!existsSync(buildDir)) return
  for (const entry of readdirSync(buildDir)) {
    const pid = Number(entry.split('-')[0])
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(buildDir, entry), { recursive: true, force: true })
    }
  }
}
