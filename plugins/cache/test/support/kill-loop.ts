// Kill -9 rounds: a child store takes concurrent writes and is SIGKILLed mid-stream;
// after each kill the data folder must still hold every write the child acknowledged.
import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { recover } from '../../src/data-dir.ts'
import type { FsyncPolicy } from '../../src/fsync-policy.ts'

const CHILD = fileURLToPath(new URL('./store-child.ts', import.meta.url))

let bundled: Promise<string> | undefined

/**
 * The child bundled once into plain JavaScript: starting it under tsx costs over a
 * second per round, which twenty rounds (and the benchmark) cannot afford.
 */
function childScript(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild')
    const outfile = join(mkdtempSync(join(tmpdir(), 'armature-cache-child-')), 'store-child.mjs')
    await build({
      entryPoints: [CHILD],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      // ioredis is CommonJS and requires Node built-ins.
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    })
    process.once('exit', () => rmSync(dirname(outfile), { recursive: true, force: true }))
    return outfile
  })()
  return bundled
}

export interface KillLoopResult {
  readonly rounds: number
  readonly acknowledged: number
  readonly lost: string[]
  /** Writes in flight at the kill that the child had not acknowledged (they may or may not be there). */
  readonly unacknowledged: number
  readonly tornTails: number
}

export async function startChild(dataDir: string, policy: FsyncPolicy): Promise<{ child: ChildProcess; port: number; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [await childScript(), dataDir, policy], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const m = /listening (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    void exited.then(() => reject(new Error(`child exited before listening: ${stderr}`)))
  })
  return { child, port, exited }
}

function put(agent: Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: '127.0.0.1', port, path, method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

export async function killLoop(options: { dataDir: string; policy: FsyncPolicy; rounds: number; writers?: number; killAfter?: () => number }): Promise<KillLoopResult> {
  const acked = new Set<string>()
  let unacknowledged = 0
  let tornTails = 0
  const writers = options.writers ?? 16
  for (let round = 0; round < options.rounds; round++) {
    const { child, port, exited } = await startChild(options.dataDir, options.policy)
    const agent = new Agent({ keepAlive: true, maxSockets: writers })
    const killAfter = options.killAfter?.() ?? 50 + Math.floor(Math.random() * 200)
    let roundAcks = 0
    let killed = false
    const kill = () => {
      if (killed) return
      killed = true
      child.kill('SIGKILL')
    }
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; !killed; i++) {
          const id = `r${round}-w${w}-${i}`
          try {
            const status = await put(agent, port, `/kill/${id}`, JSON.stringify({ round, w, i }))
            if (status !== 201) throw new Error(`unexpected status ${status} for ${id}`)
            acked.add(id)
            if (++roundAcks >= killAfter) kill()
          } catch (err) {
            if (!killed) throw err
            unacknowledged++
          }
        }
      }),
    )
    await exited
    agent.destroy()
    const { image, report } = await recover(options.dataDir, { repair: false })
    tornTails += report.torn.length
    const present = new Set(image.documents.map((d) => d.id))
    const lost = [...acked].filter((id) => !present.has(id))
    if (lost.length) return { rounds: round + 1, acknowledged: acked.size, lost, unacknowledged, tornTails }
  }
  return { rounds: options.rounds, acknowledged: acked.size, lost: [], unacknowledged, tornTails }
}
