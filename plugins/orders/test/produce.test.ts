// `armature orders produce`: fake orders through the queue port with confirms, consumed by a
// kernel; every valid order stored once, every invalid one dead-lettered, duplicates one row.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Faker, en } from '@faker-js/faker'
import { ARMATURE_BIN, startTestKernel, waitFor } from '@armature/testing'
import { fakeInvalidOrder, fakeOrder, validateOrder } from '../src/index.ts'
import { AMQP_URL, createTestDatabase, PLUGINS, Publisher, rowCounts, unique } from './support.ts'

const ORDERS_DIR = new URL('..', import.meta.url).pathname

function armature(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ARMATURE_BIN, ...args], { cwd: join(ORDERS_DIR, '..', '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

test('fake orders are valid under full strictness, and the broken ones are not', () => {
  const faker = new Faker({ locale: [en] })
  faker.seed(7)
  for (let i = 0; i < 200; i++) {
    const valid = validateOrder(fakeOrder(faker))
    assert.ok(valid.ok, JSON.stringify(!valid.ok && valid.problems))
    assert.not.ok(validateOrder(fakeInvalidOrder(faker)).ok)
  }
})

test('a usage error exits 2 and says what is wrong', async () => {
  const { code, stderr } = await armature(['orders', 'produce', '--count', '0'])
  assert.is(code, 2)
  assert.match(stderr, /--count 0: must be an integer from 1/)
})

test('produce publishes with confirms; the consumer stores each valid order once and dead-letters the invalid ones', async () => {
  const queue = unique('orders-produce')
  const database = await createTestDatabase()
  const publisher = await Publisher.open()
  const dir = mkdtempSync(join(tmpdir(), 'orders-produce-'))
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue } })
  try {
    const log = join(dir, 'produced.log')
    const { code, stdout, stderr } = await armature(
      ['orders', 'produce', '--count', '300', '--rate', '0', '--invalid-ratio', '0.1', '--duplicate-ratio', '0.2', '--queue', queue, '--log', log, '--seed', '42'],
      { AMQP_URL },
    )
    assert.is(code, 0, stderr)
    assert.match(stdout, /published 300 orders/)
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    assert.is(lines.length, 300)
    const validUids = new Set(lines.filter((l) => l.startsWith('valid ')).map((l) => l.slice(6)))
    const invalid = lines.filter((l) => l.startsWith('invalid ')).length
    assert.ok(invalid > 0 && lines.some((l) => l.startsWith('duplicate ')))
    await waitFor(async () => (await rowCounts(database.url)).orders === validUids.size, { timeoutMs: 20_000, what: `${validUids.size} orders stored` })
    const dead: unknown[] = []
    await waitFor(async () => dead.push(...(await publisher.drain(`${queue}.dead`))) >= invalid, { timeoutMs: 20_000, what: `${invalid} dead letters` })
    assert.is(dead.length, invalid)
    const counts = await rowCounts(database.url)
    assert.is(counts.orders, validUids.size)
    assert.is(counts.payments, validUids.size)
  } finally {
    await k.stop()
    await publisher.deleteQueues(queue, `${queue}.dead`)
    await publisher.close()
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
