// Rebalances with consumer processes (child Node processes running the client over gRPC):
// members joining, one leaving (SIGTERM: disconnect), one killed with SIGKILL, while producers
// keep writing; no acknowledged record is lost and each holder read its partitions in order.
// With cooperative-sticky, the partitions that do not move keep flowing while a moved one is
// still held by its old owner.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Producer, PubsubConnection, type Broker } from '../src/index.ts'
import { Fleet, checkerEvents, type ConsumerLine } from './support/fleet.ts'
import { checkHistory, formatReport } from './support/history-checker.ts'
import { Writers } from './support/writers.ts'

const PLUGIN = join(import.meta.dirname, '..')
const kernel: TestKernel = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
const url = `grpc://127.0.0.1:${kernel.kernel.addresses.grpc}`
const broker = kernel.kernel.slots.get('pubsub')!.current!.api as Broker
const fleets: Fleet[] = []
test.after.each(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()))
})

const reads = (lines: readonly ConsumerLine[]) => lines.filter((l) => l.e === 'read')
const readAll = (fleet: Fleet, writers: Writers) => {
  const seen = new Set(reads(fleet.history).map((l) => `${l.partition}/${l.offset}`))
  return writers.writes.every((w) => seen.has(`${w.partition}/${w.offset}`))
}

test('join, leave (SIGTERM) and kill -9 of consumer processes while producers write: no record lost, each partition read in order', async () => {
  const topic = `rb-${Date.now()}`
  broker.createTopic(topic, { partitions: 4 })
  const fleet = new Fleet()
  fleets.push(fleet)
  const config = {
    url,
    topics: [topic],
    options: { groupId: `g-${topic}`, sessionTimeoutMs: 1500, heartbeatIntervalMs: 100, autoCommitIntervalMs: 100, maxWaitMs: 200 },
    handleMs: 2,
  }
  const writers = new Writers(url, topic, { count: 3, pauseMs: 5 })
  try {
    const a = fleet.spawn(config)
    await a.until((l) => l.e === 'read', 'a first read')
    const b = fleet.spawn(config)
    await b.until((l) => l.e === 'assigned', 'b to get partitions on joining')
    const c = fleet.spawn(config)
    await c.until((l) => l.e === 'assigned', 'c to get partitions on joining')

    // Leave: disconnect commits and leaves, so its partitions move without waiting for the session.
    const leaving = Date.now()
    b.child.kill('SIGTERM')
    assert.equal(await b.exited, { code: 0, signal: null })
    assert.ok(
      b.lines.some((l) => l.e === 'disconnected'),
      'b disconnected cleanly',
    )
    await waitFor(() => fleet.history.some((l) => l.e === 'assigned' && l.consumer !== b.id && l.t > leaving), { what: 'b’s partitions to move' })

    // kill -9: nothing is said; the broker notices when the session runs out.
    const before = reads(c.lines).length
    await waitFor(() => reads(c.lines).length > before + 5, { what: 'c to be reading' })
    const killed = Date.now()
    c.child.kill('SIGKILL')
    await c.exited
    await waitFor(() => fleet.history.some((l) => l.e === 'assigned' && l.consumer === a.id && l.t > killed), { what: 'c’s partitions to reach a', timeoutMs: 15_000 })
    await writers.stop()
    await waitFor(() => readAll(fleet, writers), { what: 'every acknowledged record to be read', timeoutMs: 20_000 })

    const report = checkHistory({ writes: writers.writes, events: checkerEvents(fleet.history) })
    console.log(formatReport(report))
    assert.ok(writers.count > 100, 'the producers wrote throughout')
    assert.is(report.totals.lost, 0, 'no acknowledged record lost')
    assert.is(report.totals.reordered, 0, 'each holder read its partitions in order')
    assert.is(report.totals.duplicatedBeyondAtLeastOnce, 0)
    assert.ok(report.ok, formatReport(report))
  } finally {
    await writers.stop()
  }
})

test('cooperative-sticky: while a moved partition is still held by its old owner, the partitions that stay keep flowing', async () => {
  const topic = `coop-${Date.now()}`
  broker.createTopic(topic, { partitions: 4 })
  const group = `g-${topic}`
  const fleet = new Fleet()
  fleets.push(fleet)
  const gates = mkdtempSync(join(tmpdir(), 'armature-pubsub-gates-'))
  const open = (p: number) => writeFileSync(join(gates, String(p)), '')
  const connection = new PubsubConnection(url)
  const producer = new Producer(connection)
  const send = (partition: number, value: string) => producer.send({ topic, messages: [{ value, partition }] })
  try {
    const options = { groupId: group, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 100, maxWaitMs: 500, autoCommitIntervalMs: 100 }
    const a = fleet.spawn({ url, topics: [topic], options: { ...options, partitionsConsumedConcurrently: 4 } })
    await a.until((l) => l.e === 'running', 'a to run')
    await waitFor(() => a.lines.filter((l) => l.e === 'assigned').length === 4, { what: 'a to hold all four partitions' })
    // a's handler is busy with a record of every partition and goes on with one only when the test opens its gate.
    for (let p = 0; p < 4; p++) await send(p, `gate:${join(gates, String(p))}`)
    await waitFor(() => reads(a.lines).length === 4, { what: 'a to hold a gated record of each partition' })

    const b = fleet.spawn({ url, topics: [topic], options })
    await b.until((l) => l.e === 'join', 'b to join')
    const joinedAt = Date.now()
    const old = broker
      .group(group)
      .describe(Date.now())
      .members.find((m) => m.assignment.length === 4)!
    const moved = old.revoking.map((tp) => tp.partition)
    const stay = [0, 1, 2, 3].filter((p) => !moved.includes(p))
    assert.is(moved.length, 2, 'two partitions move, two stay')

    // The staying partitions go on; the moved ones stay in a's hands (a gives a partition back only after the record in hand).
    for (const p of stay) open(p)
    for (let i = 0; i < 5; i++) for (const p of [0, 1, 2, 3]) await send(p, `next-${p}-${i}`)
    await waitFor(() => reads(a.lines).filter((l) => l.value!.startsWith('next-') && stay.includes(l.partition!)).length === 10, {
      what: 'a to read the staying partitions’ new records',
    })
    // a learns of the rebalance at its next heartbeat; the moved partitions' handlers are still held by their gates.
    await Promise.all(moved.map((p) => a.until((l) => l.e === 'revoking' && l.partition === p, `a to be asked for ${p}`)))
    // Still flowing once a knows: its staying partitions do not wait for the moved ones.
    for (let i = 0; i < 2; i++) for (const p of stay) await send(p, `late-${p}-${i}`)
    await waitFor(() => reads(a.lines).filter((l) => l.value!.startsWith('late-')).length === 4, { what: 'a to read the staying partitions during its revocation' })
    const during = broker.group(group).describe(Date.now())
    assert.is(during.state, 'rebalancing', 'the rebalance is still in progress')
    assert.equal(
      during.members
        .find((m) => m.memberId === old.memberId)!
        .revoking.map((tp) => tp.partition)
        .sort(),
      [...moved].sort(),
      'a still holds the moved partitions',
    )
    assert.not.ok(
      a.lines.some((l) => l.e === 'revoked'),
      'nothing was handed over yet',
    )
    assert.is(reads(b.lines).length, 0, 'b has read nothing yet')

    for (const p of moved) open(p)
    const revoked = await Promise.all(moved.map((p) => a.until((l) => l.e === 'revoked' && l.partition === p, `a to give back ${p}`)))
    const handedOver = Math.min(...revoked.map((r) => r.t))
    const flowing = reads(a.lines).filter((l) => (l.value!.startsWith('next-') && stay.includes(l.partition!)) || l.value!.startsWith('late-'))
    assert.ok(
      flowing.every((l) => l.t > joinedAt && l.t < handedOver),
      'the staying partitions were read after b joined and before the moved ones were handed over',
    )
    // The moved partitions continue at b right after what a handled and committed, each record once.
    await waitFor(() => reads(b.lines).length === 10, { what: 'b to read the moved partitions’ new records' })
    assert.ok(
      reads(b.lines).every((l) => moved.includes(l.partition!) && l.value!.startsWith('next-') && l.t >= handedOver),
      'b reads only the moved partitions’ new records, after the handover',
    )
    assert.not.ok(
      reads(a.lines).some((l) => l.value!.startsWith('next-') && moved.includes(l.partition!)),
      'a read nothing more of a partition it was giving back',
    )
  } finally {
    for (let p = 0; p < 4; p++) open(p)
    await producer.close()
    connection.close()
    rmSync(gates, { recursive: true, force: true })
  }
})

test.after(async () => {
  await kernel.stop()
})

test.run()
