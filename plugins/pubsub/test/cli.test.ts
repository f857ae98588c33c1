// `armature pubsub` as a child process against a running kernel: topics, produce from stdin
// lines with keys, consume to stdout as a group (from the beginning, or only what comes next),
// groups and lag; usage errors exit 2, an unreachable broker 1.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ARMATURE_BIN, startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { keyPartition, type Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const k: TestKernel = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
const broker = k.kernel.slots.get('pubsub')!.current!.api as Broker
const url = `grpc://127.0.0.1:${k.kernel.addresses.grpc}`

interface Run {
  code: Promise<number>
  out: () => string
  err: () => string
}

function cli(args: string[], { stdin = '', env = { PUBSUB_URL: url } }: { stdin?: string; env?: Record<string, string> } = {}): Run {
  const child = spawn(process.execPath, [ARMATURE_BIN, 'pubsub', ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk))
  child.stderr.on('data', (chunk: Buffer) => (err += chunk))
  child.stdin.end(stdin)
  return { code: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1))), out: () => out, err: () => err }
}

async function done(run: Run): Promise<{ code: number; out: string; err: string }> {
  const code = await run.code
  return { code, out: run.out(), err: run.err() }
}

test('topics --create, produce from stdin with keys, consume --from-beginning as a group, lag and groups', async () => {
  const created = await done(cli(['topics', '--create', 'cli-t', '--partitions', '3']))
  assert.is(created.code, 0, created.err)
  const lines = Array.from({ length: 20 }, (_, i) => `key${i % 5}:value ${i}`)
  const produced = await done(cli(['produce', '--topic', 'cli-t', '--key-separator', ':'], { stdin: lines.join('\n') + '\n' }))
  assert.is(produced.code, 0, produced.err)
  assert.match(produced.err, /produced 20 records to cli-t/)
  for (let p = 0; p < 3; p++) {
    for (const r of (await broker.fetch('cli-t', p, 0, { maxMessages: 100 })).records) {
      assert.is(keyPartition(r.key!, 3), p, 'the key decides the partition')
      assert.ok(lines.includes(`${r.key!.toString()}:${r.value.toString()}`))
    }
  }
  const listed = await done(cli(['topics']))
  assert.match(listed.out, /^TOPIC\s+PARTITIONS\s+RECORDS\s+BYTES\s+END OFFSETS\n/)
  assert.match(listed.out, /\ncli-t\s+3\s+20\s+\d+\s+\d+,\d+,\d+\n/)

  const consumed = await done(cli(['consume', '--topic', 'cli-t', '--group', 'cli-g', '--from-beginning', '--max-messages', '20', '--print-key']))
  assert.is(consumed.code, 0, consumed.err)
  assert.equal(
    consumed.out
      .trimEnd()
      .split('\n')
      .map((l) => l.replace('\t', ':'))
      .sort(),
    [...lines].sort(),
  )
  assert.is(
    broker
      .group('cli-g')
      .lag()
      .reduce((n, p) => n + p.lag, 0),
    0,
    'leaving committed what was printed',
  )

  await broker.produce('cli-t', [{ value: Buffer.from('late'), partition: 1 }])
  const lag = await done(cli(['lag', 'cli-g']))
  assert.is(lag.code, 0, lag.err)
  assert.match(lag.out, /\ncli-g\s+cli-t\s+1\s+\d+\s+\d+\s+1\n/)
  const groups = await done(cli(['groups', '--json']))
  const row = JSON.parse(groups.out).groups.find((g: { group: string }) => g.group === 'cli-g')
  assert.equal([row.members, row.lag], [0, 1])
})

test('consume without --from-beginning prints only what comes after it joined', async () => {
  await broker.produce('cli-new', [{ value: Buffer.from('old') }])
  const run = cli(['consume', '--topic', 'cli-new', '--max-messages', '1'])
  // Its own group, positioned at the end: from here on records are new to it.
  await waitFor(() => run.err().includes('reading cli-new/0 from offset 1'), { what: 'the console consumer to take the partition' })
  await broker.produce('cli-new', [{ value: Buffer.from('new') }])
  const result = await done(run)
  assert.is(result.code, 0, result.err)
  assert.is(result.out, 'new\n')
})

test('consume --timeout-ms ends when nothing comes for that long', async () => {
  await broker.produce('cli-quiet', [{ value: Buffer.from('only') }])
  const result = await done(cli(['consume', '--topic', 'cli-quiet', '--from-beginning', '--timeout-ms', '1500', '--print-offset']))
  assert.is(result.code, 0, result.err)
  assert.is(result.out, '0:0\tonly\n')
  assert.match(result.err, /consumed 1 records from cli-quiet/)
})

test('usage errors exit 2; an unreachable broker exits 1 and says where it looked', async () => {
  const unknown = await done(cli(['nonsense']))
  assert.is(unknown.code, 2)
  assert.match(unknown.err, /unknown command 'nonsense'/)
  const noTopic = await done(cli(['produce']))
  assert.is(noTopic.code, 2)
  assert.match(noTopic.err, /--topic is required/)
  const away = await done(cli(['topics'], { env: { PUBSUB_URL: 'grpc://127.0.0.1:1' } }))
  assert.is(away.code, 1)
  assert.match(away.err, /grpc:\/\/127\.0\.0\.1:1/)
  const refused = await done(cli(['lag', 'no-such-group']))
  assert.is(refused.code, 1)
  assert.match(refused.err, /UNKNOWN_GROUP/)
})

test.after(async () => {
  await k.stop()
})

test.run()
