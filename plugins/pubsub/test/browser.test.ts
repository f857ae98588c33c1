// What a browser does with the broker, in headless Chromium: produce over the HTTP JSON API with
// fetch, then consume over the WebSocket at /pubsub/ws as a group member, acknowledging each
// record; the group's committed offset follows the acks.
import { join } from 'node:path'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import type { BrowserContext } from 'playwright-core'
import { launchChromium, type TestBrowser } from '@armature/testing/chromium'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
let k: TestKernel
let chrome: TestBrowser
let browser: BrowserContext

test.before(async () => {
  k = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
  chrome = await launchChromium()
  browser = chrome.context
})

test.after(async () => {
  await chrome?.close()
  await k?.stop()
})

test('a page produces with fetch and consumes over the WebSocket, acknowledging each record', async () => {
  const page = browser.pages()[0] ?? (await browser.newPage())
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  // A page of the kernel's origin (the topics list), as an app's own page would be.
  await page.goto(`${k.url}/pubsub/topics`)
  // Plain JavaScript as the page runs it (a function from here would carry tsx's helpers along).
  const result = (await page.evaluate(`(async () => {
    const post = (path, body) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json())
    await post('/pubsub/topics', { name: 'browser-t', partitions: 2 })
    const produced = await post('/pubsub/topics/browser-t', { records: ['α', 'β', 'γ', 'δ'].map((value, i) => ({ key: 'k' + i, value, headers: { from: 'page' } })) })
    const socket = new WebSocket('ws://' + location.host + '/pubsub/ws')
    const values = []
    let subscribed = false
    await new Promise((resolve, reject) => {
      socket.onerror = () => reject(new Error('socket error'))
      socket.onopen = () => socket.send(JSON.stringify({ type: 'subscribe', group: 'browser-g', topics: ['browser-t'], maxAckPending: 2 }))
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data)
        if (frame.type === 'subscribed') subscribed = true
        if (frame.type === 'error') reject(new Error(frame.error))
        if (frame.type !== 'records') return
        for (const r of frame.records) values.push(r.value + ':' + r.headers.from)
        socket.send(JSON.stringify({ type: 'ack', records: frame.records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset })) }))
        if (values.length === 4) resolve()
      }
    })
    socket.close()
    return { produced, values, subscribed }
  })()`)) as { produced: { offsets: unknown[] }; values: string[]; subscribed: boolean }
  assert.is(result.produced.offsets.length, 4)
  assert.ok(result.subscribed)
  assert.equal(result.values.sort(), ['α:page', 'β:page', 'γ:page', 'δ:page'])
  const broker = k.kernel.slots.get('pubsub')!.current!.api as Broker
  await waitFor(
    () =>
      broker
        .group('browser-g')
        .lag()
        .every((p) => p.lag === 0),
    { what: 'the acks to commit every partition' },
  )
  assert.equal(errors, [])
})

test.run()
