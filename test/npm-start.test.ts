// The repository's `npm start`: npm runs the script in a shell, and the script execs the
// kernel, so a SIGTERM sent to npm (docker stop, a process manager) reaches the kernel: it
// stops in phases and npm exits 0, with no kernel left running.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '@armature/testing'

const REPO = fileURLToPath(new URL('..', import.meta.url))

test('SIGTERM to npm start reaches the kernel: it logs its shutdown and npm exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-npm-start-'))
  // Embedded defaults and free loopback ports: the shipped plugins touch no shared service.
  const { DATABASE_URL: _db, REDIS_URL: _redis, AMQP_URL: _amqp, ...env } = process.env
  const child = spawn('npm', ['start'], {
    cwd: REPO,
    // Its own process group, so a kernel orphaned by a shell that did not exec can be found and ended.
    detached: true,
    env: {
      ...env,
      PORT: '0',
      HTTPS_PORT: '0',
      GRPC_PORT: '0',
      GRPCS_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      LOG_FILE: join(dir, 'armature.log'),
      FORCE_COLOR: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  child.on('exit', (code, signal) => (exit = { code, signal }))
  const messages = () =>
    output.split('\n').flatMap((line) => {
      try {
        return [String(JSON.parse(line).msg)]
      } catch {
        return []
      }
    })
  try {
    // Generous: the db plugin boots embedded PGlite, tens of seconds on a busy machine.
    const url = await waitFor(
      () => {
        if (exit) throw new Error(`npm start exited (${exit.code}) before it was ready:\n${output}`)
        return messages().some((m) => m.startsWith('ready: ')) && /http listening on (http:\/\/\S+?)"/.exec(output)?.[1]
      },
      { timeoutMs: 90_000, what: 'npm start to be ready' },
    )
    assert.is((await fetch(`${url}/healthz`)).status, 200)
    child.kill('SIGTERM')
    await waitFor(() => exit, { timeoutMs: 30_000, what: `npm start to exit after SIGTERM:\n${output}` })
    assert.equal(exit, { code: 0, signal: null }, output)
    assert.ok(messages().includes('SIGTERM received: stopping (send it again to exit at once)'), output)
    assert.ok(
      messages().some((m) => m.startsWith('shutdown phase 50 Final done')),
      output,
    )
    assert.ok(
      messages().some((m) => m.startsWith('shutdown complete')),
      output,
    )
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // The group is gone: nothing was left running.
    }
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
