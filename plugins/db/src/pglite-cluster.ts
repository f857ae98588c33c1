// Creates the embedded cluster (initdb) in a child process, so its memory leaves with that process.
//
// PGlite's first create runs initdb in a second, nested PostgreSQL instance, copies its heap and
// the whole cluster through JavaScript, and the WebAssembly memory all of that grew is never given
// back: a process that ran initdb stays near 800 MB. A child process creates the cluster and
// exits; this process then opens the finished folder like any later boot does.
//
// The child builds into `<dataDir>/.initdb`; once it exits cleanly that folder is renamed to
// `.initdb-done` and its entries move into `<dataDir>`, PG_VERSION last, so a folder counts as a
// cluster only when it is whole, and a move cut short resumes on the next open.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseUnavailableError } from './errors.ts'

const BUILDING = '.initdb'
const BUILT = '.initdb-done'
/** Kept of the child's stderr for an error message. */
const STDERR_LIMIT = 4096

// Plain JavaScript run by `node --input-type=module -e`: PGlite's module URL, the folder, and the
// PostgreSQL settings as JSON (the instance initdb leaves running in the child boots with them too).
// PostgreSQL's own complaints (a FATAL on a bad setting) go to stderr, which becomes the error message.
const CHILD = `
const [pglite, folder, settings] = process.argv.slice(1)
const { PGlite } = await import(pglite)
const onStderr = (line) => { if (/FATAL|ERROR|PANIC/.test(line)) process.stderr.write(line + '\\n'); return false }
try {
  const db = await PGlite.create(folder, { startParams: [...PGlite.defaultStartParams, ...JSON.parse(settings)], onStderr })
  await db.close()
} catch (error) {
  process.stderr.write(error.message + '\\n')
  process.exit(1)
}
`

export interface ClusterCreated {
  /** How long initdb took, child process start to exit. */
  ms: number
  /** The process that ran initdb (it has exited). */
  pid: number
}

/** True when `dataDir` holds a PostgreSQL cluster. */
export function hasCluster(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'))
}

/** Makes sure `dataDir` holds a cluster; resolves what was created, or undefined when one was there. */
export async function ensureCluster(dataDir: string, settingArgs: string[], signal?: AbortSignal): Promise<ClusterCreated | undefined> {
  if (hasCluster(dataDir)) return undefined
  mkdirSync(dataDir, { recursive: true })
  const built = join(dataDir, BUILT)
  if (existsSync(built)) {
    // A move cut short: initdb had finished, so what is left of its folder moves now.
    moveInto(built, dataDir)
    return undefined
  }
  const others = readdirSync(dataDir).filter((entry) => entry !== BUILDING)
  if (others.length > 0) {
    throw new DatabaseUnavailableError(
      `${dataDir} holds files (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''}) but no PostgreSQL cluster (no PG_VERSION); ` +
        'move them away or set DATA_DIR to another folder',
    )
  }
  const building = join(dataDir, BUILDING)
  rmSync(building, { recursive: true, force: true })
  let created: ClusterCreated
  try {
    created = await runInitdb(building, settingArgs, signal)
  } catch (error) {
    rmSync(building, { recursive: true, force: true })
    throw error
  }
  renameSync(building, built)
  moveInto(built, dataDir)
  return created
}

function moveInto(from: string, to: string): void {
  const entries = readdirSync(from).filter((entry) => entry !== 'PG_VERSION')
  for (const entry of entries) renameSync(join(from, entry), join(to, entry))
  if (existsSync(join(from, 'PG_VERSION'))) renameSync(join(from, 'PG_VERSION'), join(to, 'PG_VERSION'))
  rmSync(from, { recursive: true, force: true })
}

function runInitdb(folder: string, settingArgs: string[], signal?: AbortSignal): Promise<ClusterCreated> {
  const started = performance.now()
  const pglite = import.meta.resolve('@electric-sql/pglite')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, pglite, folder, JSON.stringify(settingArgs)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(signal ? { signal } : {}),
    })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_LIMIT)
    })
    child.once('error', (error) => reject(new DatabaseUnavailableError(`cannot run initdb for ${folder}: ${error.message}`, { cause: error })))
    child.once('exit', (code, exitSignal) => {
      if (code === 0) return resolve({ ms: performance.now() - started, pid: child.pid! })
      const how = exitSignal ? `was killed by ${exitSignal}` : `exited with ${code}`
      reject(new DatabaseUnavailableError(`initdb for ${folder} ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`))
    })
  })
}
