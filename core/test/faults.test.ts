// An uncaught exception or an unhandled rejection in a plugin: the kernel logs it once at
// fatal with its stack, stops gracefully (phases run, data is flushed) and exits 1; a second
// fault during that stop exits at once.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnKernel, waitFor, type ChildKernel } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
writePlugin(
  dir,
  'faulty',
  `import { definePlugin, Phase } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({ name: 'faulty', config: { faultOnStop: false }, setup(ctx) {
  ctx.http.route(new Hono()
    .get('/throw', (c) => { setTimeout(() => { throw new Error('boom in a timer') }, 0); return c.text('scheduled') })
    .get('/reject', (c) => { void Promise.reject(new Error('boom in a promise')); return c.text('rejected') }))
  ctx.onStop('flush', () => {
    ctx.log.info('faulty flushed')
    if (!ctx.config.faultOnStop) return
    setTimeout(() => { throw new Error('boom while stopping') }, 0)
    return new Promise(() => {})
  }, { phase: Phase.Flush, timeoutMs: 30000 })
} })`,
)

interface LogLine {
  level: number
  msg: string
  err?: { message: string; stack: string }
}

const FATAL = 60

function logLines(k: ChildKernel): LogLine[] {
  return k.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine]
    } catch {
      return []
    }
  })
}

/** Waits for the child to exit, failing the test (and killing the child) if it never does. */
async function exitOf(k: ChildKernel): Promise<number | null> {
  let code: number | null | undefined
  void k.exited.then((e) => (code = e.code))
  try {
    await waitFor(() => code !== undefined, { timeoutMs: 25_000, what: 'the kernel to exit' })
  } catch (error) {
    k.child.kill('SIGKILL')
    throw error
  }
  return code!
}

async function assertFatalThenGracefulStop(path: string, kind: string, message: string) {
  const k = await spawnKernel({ args: ['--plugins', dir] })
  assert.is((await fetch(`${k.url}/faulty${path}`)).status, 200)
  assert.is(await exitOf(k), 1)
  const lines = logLines(k)
  const fatal = lines.filter((l) => l.level === FATAL)
  assert.is(fatal.length, 1, `one fatal line:\n${k.lines.join('\n')}`)
  assert.match(fatal[0]!.msg, new RegExp(`^${kind}: ${message}; stopping, then exiting 1$`))
  assert.match(fatal[0]!.err!.stack, new RegExp(`Error: ${message}\\n\\s+at `), 'the stack is logged')
  const messages = lines.map((l) => l.msg)
  const phases = messages.filter((m) => m.startsWith('shutdown phase ')).map((m) => m.split(' done')[0])
  assert.equal(phases, ['shutdown phase 0 Ready', 'shutdown phase 10 Ingress', 'shutdown phase 30 Flush', 'shutdown phase 50 Final'])
  assert.ok(messages.includes('faulty flushed'), 'the plugin flushed')
  assert.ok(
    messages.some((m) => m.startsWith('shutdown complete')),
    messages.join('\n'),
  )
}

test('an exception thrown in a timer: logged at fatal with its stack, a graceful stop, exit 1', async () => {
  await assertFatalThenGracefulStop('/throw', 'uncaught exception', 'boom in a timer')
})

test('an unhandled rejection: logged at fatal with its stack, a graceful stop, exit 1', async () => {
  await assertFatalThenGracefulStop('/reject', 'unhandled rejection', 'boom in a promise')
})

test('a second fault during that stop exits 1 at once, without waiting for the stop entry', async () => {
  const k = await spawnKernel({ args: ['--plugins', dir], env: { FAULTY_FAULT_ON_STOP: 'true', SHUTDOWN_TIMEOUT_MS: '60000' } })
  await fetch(`${k.url}/faulty/throw`)
  assert.is(await exitOf(k), 1)
  const lines = logLines(k)
  const fatal = lines.filter((l) => l.level === FATAL).map((l) => l.msg)
  assert.equal(fatal, [
    'uncaught exception: boom in a timer; stopping, then exiting 1',
    'uncaught exception while stopping after an earlier fault: boom while stopping; exiting at once',
  ])
  assert.ok(lines.some((l) => l.msg === 'faulty flushed'))
  assert.not.ok(
    lines.some((l) => l.msg.startsWith('shutdown complete')),
    'the stop was cut short',
  )
})

test.run()
