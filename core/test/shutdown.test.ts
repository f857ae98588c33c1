import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pino from 'pino'
import { Writable } from 'node:stream'
import { Phase } from '../src/plugin.ts'
import { effectivePhase, runStop, type StopEntry } from '../src/shutdown.ts'

function capture() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)).msg)
      cb()
    },
  })
  return { log: pino({ level: 'info' }, stream), lines }
}

const entry = (id: string, phase: number, fn: () => unknown, extra: Partial<StopEntry> = {}): StopEntry => ({ id, phase, timeoutMs: 1000, fn, ...extra })

test('phases run in order; entries of one phase run in parallel', async () => {
  const events: string[] = []
  const slow = (id: string, ms: number) => async () => {
    events.push(`start ${id}`)
    await new Promise((r) => setTimeout(r, ms))
    events.push(`end ${id}`)
  }
  const { log } = capture()
  const report = await runStop(
    [
      entry('flush', Phase.Flush, slow('flush', 5)),
      entry('a', Phase.Ingress, slow('a', 30)),
      entry('b', Phase.Ingress, slow('b', 10)),
      entry('ready', Phase.Ready, slow('ready', 1)),
    ],
    { log, deadlineMs: 5000 },
  )
  assert.ok(report.ok)
  assert.equal(
    report.order.map((p) => p.phase),
    [0, 10, 30],
  )
  // a and b both started before either ended: same phase, parallel.
  assert.equal(events.slice(2, 4).sort(), ['start a', 'start b'])
  assert.is(events.indexOf('start flush') > events.indexOf('end a'), true)
})

test('an entry past its timeout is forced and the stop goes on', async () => {
  let forced = false
  let later = false
  const { log, lines } = capture()
  const report = await runStop(
    [entry('stuck', Phase.Ingress, () => new Promise(() => {}), { timeoutMs: 50, force: () => (forced = true) }), entry('after', Phase.Egress, () => (later = true))],
    { log, deadlineMs: 5000 },
  )
  assert.ok(forced)
  assert.ok(later)
  assert.not.ok(report.ok)
  assert.is(report.outcomes.get('stuck'), 'timeout')
  assert.is(report.outcomes.get('after'), 'ok')
  assert.ok(lines.some((l) => /stuck exceeded 50 ms; forced/.test(l)))
})

test('an error is logged and the rest go on', async () => {
  let ran = false
  const { log, lines } = capture()
  const report = await runStop(
    [
      entry('broken', Phase.Flush, () => {
        throw new Error('disk gone')
      }),
      entry('peer', Phase.Flush, () => (ran = true)),
    ],
    { log, deadlineMs: 5000 },
  )
  assert.ok(ran)
  assert.is(report.outcomes.get('broken'), 'failed')
  assert.ok(lines.some((l) => l === 'stop entry broken failed: disk gone'))
})

test('the global deadline forces what is left', async () => {
  const forced: string[] = []
  const { log } = capture()
  const report = await runStop(
    [
      entry('slow', Phase.Ingress, () => new Promise(() => {}), { timeoutMs: 10_000, force: () => forced.push('slow') }),
      entry('late', Phase.Flush, () => undefined, { force: () => forced.push('late') }),
    ],
    { log, deadlineMs: 80 },
  )
  assert.equal(forced, ['slow', 'late'])
  assert.is(report.outcomes.get('late'), 'skipped')
  assert.ok(report.durationMs < 1000)
})

test('the configured order overrides phases by id or prefix, and the log shows it', async () => {
  assert.is(effectivePhase({ id: 'plugin:cache:dump', phase: 30 }, { 'plugin:cache': 5 }), 5)
  assert.is(effectivePhase({ id: 'plugin:cache:dump', phase: 30 }, { 'plugin:cache': 5, 'plugin:cache:dump': 7 }), 7)
  assert.is(effectivePhase({ id: 'http', phase: 10 }, { https: 1 }), 10)
  const ran: string[] = []
  const { log, lines } = capture()
  await runStop([entry('http', Phase.Ingress, () => ran.push('http')), entry('amqp', Phase.Ingress, () => ran.push('amqp'))], {
    log,
    deadlineMs: 1000,
    order: { amqp: 5, http: 45 },
  })
  assert.equal(ran, ['amqp', 'http'])
  assert.ok(lines.some((l) => l === 'stop order: 5 [amqp] -> 45 [http]'))
})

test.run()
