// ctx.ws.send: a producer that awaits it waits for a peer that stops reading (the kernel's cap is
// never reached), goes on when the peer reads again, and stops with StreamClosedError once it is gone.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { startTestKernel, waitFor } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const producer = `import { definePlugin, StreamClosedError } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'producer',
  setup(ctx) {
    const runs: Array<{ sent: number; ended?: string }> = []
    ctx.http.route(new Hono().get('/runs', (c) => c.json(runs)))
    ctx.ws.route('/ws', async (socket) => {
      const run: { sent: number; ended?: string } = { sent: 0 }
      runs.push(run)
      const chunk = Buffer.alloc(64 * 1024, 120)
      try {
        for (;;) {
          await ctx.ws.send(socket, chunk)
          run.sent++
        }
      } catch (error) {
        run.ended = error instanceof StreamClosedError ? 'StreamClosedError' : String(error)
      }
    })
  },
})
`

test('an awaiting producer waits for a paused peer, resumes with it, and stops when it is gone', async () => {
  const dir = pluginsFolder()
  writePlugin(dir, 'producer', producer)
  const k = await startTestKernel({ pluginsDir: dir, env: { WS_MAX_BUFFERED_BYTES: String(4 * 1024 * 1024) } })
  const runs = async () => ((await (await fetch(`${k.url}/producer/runs`)).json()) as Array<{ sent: number; ended?: string }>)[0]
  const ws = new WebSocket(`${k.url.replace('http', 'ws')}/producer/ws`)
  try {
    let received = 0
    ws.on('message', () => received++)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.pause()
    // Stalled: the count stops moving while the peer reads nothing.
    let last = -1
    let steady = 0
    const stalled = await waitFor(
      async () => {
        const { sent } = (await runs())!
        steady = sent === last ? steady + 1 : 0
        last = sent
        return steady >= 5 && sent > 0 ? sent : undefined
      },
      { what: 'the producer to wait for the paused peer', intervalMs: 100, timeoutMs: 20_000 },
    )
    assert.is((await runs())!.ended, undefined, 'the producer is still waiting, not ended')
    assert.not.match(readFileSync(k.logFile, 'utf8'), /closed with 1008/, 'the cap was never reached')
    ws.resume()
    await waitFor(async () => (await runs())!.sent > stalled + 100, { what: 'the producer to go on once the peer reads' })
    ws.terminate()
    const ended = await waitFor(async () => (await runs())!.ended, { what: 'the producer to stop' })
    assert.is(ended, 'StreamClosedError')
    assert.ok(received > stalled)
  } finally {
    ws.terminate()
    await k.stop()
  }
})

test.run()
