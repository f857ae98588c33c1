import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTcpProxy, waitFor } from '@armature/testing'
import { DatabaseInputError, DatabaseUnavailableError } from '../src/errors.ts'
import { openDatabase, type OpenDatabase } from '../src/open.ts'
import { createTestDatabase, rejection, type TestDatabase } from './support.ts'

const tmp = mkdtempSync(join(tmpdir(), 'armature-db-notify-copy-'))
const EMBEDDED_DIR = join(tmp, 'db')
let pgDatabase: TestDatabase
const backends: Record<string, OpenDatabase> = {}
const listenerErrors: Array<{ channel: string; message: string }> = []
const onListenerError = (error: unknown, channel: string) => listenerErrors.push({ channel, message: (error as Error).message })

test.before(async () => {
  pgDatabase = await createTestDatabase('armature_db_notify_copy')
  backends.postgres = await openDatabase({ url: pgDatabase.url, dataDir: '', poolSize: 4, connectTimeoutMs: 5000, onListenerError })
  // A small batch so copyFrom's rows span many INSERT statements.
  backends.pglite = await openDatabase({ url: '', dataDir: EMBEDDED_DIR, poolSize: 1, connectTimeoutMs: 5000, pgliteInsertBatchParams: 50, onListenerError })
})

test.after(async () => {
  await Promise.allSettled(Object.values(backends).map((b) => b.close()))
  await pgDatabase?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

const TABLE = `CREATE TABLE copy_target (
  id int PRIMARY KEY, body text, doc jsonb, data bytea, at timestamptz, flag boolean, tags text[], note text
)`
const COLUMNS = ['id', 'body', 'doc', 'data', 'at', 'flag', 'tags', 'note'] as const
const AWKWARD = 'tab\there, newline\nthere, cr\r, backslash \\ and \\N, quote " and \u00e9\u4e2d'

function row(i: number): unknown[] {
  return [
    i,
    i === 0 ? AWKWARD : `body ${i}`,
    { n: i, nested: { ok: true } },
    Buffer.from([0, 1, 254, i % 256]),
    new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)),
    i % 2 === 0,
    ['a', `b${i}`, 'with space'],
    i % 3 === 0 ? null : `note ${i}`,
  ]
}

async function count(db: OpenDatabase): Promise<number> {
  const { rows } = await db.database.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_target')
  return rows[0]!.n
}

for (const kind of ['postgres', 'pglite'] as const) {
  test(`${kind}: notify reaches listen, a rolled-back notify never arrives, and unlisten stops one handler only`, async () => {
    const db = backends[kind]!.database
    const first: string[] = []
    const second: string[] = []
    const stopFirst = await db.listen('armature_events', (payload) => void first.push(payload))
    await db.listen('armature_events', (payload) => void second.push(payload))
    await db.notify('armature_events', 'one')
    await waitFor(() => first.includes('one') && second.includes('one'), { what: 'the first notification' })

    await db.transaction(async (tx) => {
      await tx.notify('armature_events', 'committed')
      assert.not.ok(first.includes('committed'), 'not before COMMIT')
    })
    await rejection(
      db.transaction(async (tx) => {
        await tx.notify('armature_events', 'rolled back')
        throw new Error('changed my mind')
      }),
    )
    await stopFirst()
    await stopFirst()
    await db.notify('armature_events', 'after')
    // Notifications of one channel arrive in order, so once "after" is in, nothing earlier is still on its way.
    await waitFor(() => second.includes('after'), { what: 'the last notification' })
    assert.equal(second, ['one', 'committed', 'after'])
    assert.equal(first, ['one', 'committed'])
  })

  test(`${kind}: channel names keep their case, payloads may be empty, and a throwing handler leaves the others hearing`, async () => {
    const db = backends[kind]!.database
    const heard: string[] = []
    await db.listen(`MixedCase_${kind}`, () => {
      throw new Error('handler broke')
    })
    await db.listen(`MixedCase_${kind}`, async () => {
      throw new Error('async handler broke')
    })
    await db.listen(`MixedCase_${kind}`, (payload) => void heard.push(payload))
    // Unquoted in SQL the name folds to lower case: a different channel.
    await db.exec(`NOTIFY mixedcase_${kind}, 'folded'`)
    await db.notify(`MixedCase_${kind}`)
    await db.notify(`MixedCase_${kind}`, 'second')
    await waitFor(() => heard.length === 2, { what: 'both notifications' })
    assert.equal(heard, ['', 'second'])
    await waitFor(() => listenerErrors.filter((e) => e.channel === `MixedCase_${kind}`).length === 4, { what: 'the reported handler errors' })
    assert.equal([...new Set(listenerErrors.filter((e) => e.channel === `MixedCase_${kind}`).map((e) => e.message))].sort(), ['async handler broke', 'handler broke'])
  })

  test(`${kind}: bad channel names and payloads are refused before anything is sent`, async () => {
    const db = backends[kind]!.database
    for (const channel of ['bad-name', '1starts_with_digit', 'x; DROP TABLE copy_target', '', 'a'.repeat(64), 'caf\u00e9']) {
      assert.instance(await rejection(db.listen(channel, () => {})), DatabaseInputError, `listen ${channel}`)
      assert.instance(await rejection(db.notify(channel, 'x')), DatabaseInputError, `notify ${channel}`)
    }
    const big = await rejection(db.notify('armature_events', 'x'.repeat(8000)))
    assert.instance(big, DatabaseInputError)
    assert.match(big.message, /8000 bytes; at most 7999/)
    assert.instance(await rejection(db.notify('armature_events', 42 as unknown as string)), DatabaseInputError)
  })

  test(`${kind}: copyFrom writes every row with values converted as parameters are, and returns the count`, async () => {
    const db = backends[kind]!.database
    await db.exec(TABLE)
    const rows = Array.from({ length: 250 }, (_, i) => row(i))
    assert.is(await db.copyFrom('copy_target', COLUMNS, rows), 250)
    assert.is(await count(backends[kind]!), 250)
    const { rows: back } = await db.query<Record<string, unknown>>(
      `SELECT id, body, doc, encode(data, 'hex') AS data, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, flag, tags, note FROM copy_target WHERE id IN (0, 1, 3) ORDER BY id`,
    )
    assert.equal(back[0], {
      id: 0,
      body: AWKWARD,
      doc: { n: 0, nested: { ok: true } },
      data: '0001fe00',
      at: '2026-01-01 00:00:00',
      flag: true,
      tags: ['a', 'b0', 'with space'],
      note: null,
    })
    assert.equal(back[1], {
      id: 1,
      body: 'body 1',
      doc: { n: 1, nested: { ok: true } },
      data: '0001fe01',
      at: '2026-01-01 00:00:01',
      flag: false,
      tags: ['a', 'b1', 'with space'],
      note: 'note 1',
    })
    assert.is(back[2]!.note, null)
    // Any iterable, and a schema-qualified name.
    function* more() {
      for (let i = 1000; i < 1010; i++) yield row(i)
    }
    assert.is(await db.copyFrom('public.copy_target', COLUMNS, more()), 10)
    assert.is(await db.copyFrom('copy_target', COLUMNS, []), 0)
    assert.is(await count(backends[kind]!), 260)
  })

  test(`${kind}: a bad row or a value the column refuses writes none of the rows, and the database serves on`, async () => {
    const db = backends[kind]!.database
    const before = await count(backends[kind]!)
    const rows: unknown[][] = Array.from({ length: 40 }, (_, i) => row(2000 + i))
    rows[30] = [1, 2]
    const short = await rejection(db.copyFrom('copy_target', COLUMNS, rows))
    assert.instance(short, DatabaseInputError)
    assert.match(short.message, /row 30 must be an array of 8 values/)
    const refused = await rejection(
      db.copyFrom(
        'copy_target',
        ['id', 'body'],
        [
          [3000, 'fine'],
          ['not a number', 'bad'],
        ],
      ),
    )
    assert.not.instance(refused, DatabaseInputError)
    assert.match(refused.message, /integer/)
    const duplicate = await rejection(db.copyFrom('copy_target', ['id'], [[5000], [0]]))
    assert.match(duplicate.message, /duplicate key/)
    assert.is(await count(backends[kind]!), before)
  })

  test(`${kind}: copyFrom inside a transaction commits and rolls back with it`, async () => {
    const db = backends[kind]!.database
    const before = await count(backends[kind]!)
    await rejection(
      db.transaction(async (tx) => {
        assert.is(
          await tx.copyFrom(
            'copy_target',
            ['id', 'body'],
            [
              [4000, 'x'],
              [4001, 'y'],
            ],
          ),
          2,
        )
        throw new Error('roll it back')
      }),
    )
    assert.is(await count(backends[kind]!), before)
    const written = await db.transaction(async (tx) => {
      const n = await tx.copyFrom(
        'copy_target',
        ['id', 'body'],
        [
          [4000, 'x'],
          [4001, 'y'],
        ],
      )
      await tx.notify('armature_events', 'copied')
      return n
    })
    assert.is(written, 2)
    assert.is(await count(backends[kind]!), before + 2)
  })

  test(`${kind}: copyFrom refuses bad table and column names before anything is sent`, async () => {
    const db = backends[kind]!.database
    const cases: Array<[string, string[]]> = [
      ['copy target', ['id']],
      ['a.b.c', ['id']],
      ['copy_target"; DROP TABLE copy_target; --', ['id']],
      ['copy_target', []],
      ['copy_target', ['id', 'id']],
      ['copy_target', ['id', 'body text']],
    ]
    for (const [table, columns] of cases) {
      assert.instance(await rejection(db.copyFrom(table, columns, [columns.map(() => 1)])), DatabaseInputError, `${table} ${columns}`)
    }
    assert.instance(await rejection(db.copyFrom('copy_target', ['id'], 42 as unknown as unknown[][])), DatabaseInputError)
    assert.ok((await count(backends[kind]!)) > 0, 'the table is still there')
  })
}

test('postgres: a first listen that cannot connect fails; a lost listening connection comes back, LISTENs again (also for listens made meanwhile) and says so', async () => {
  const target = new URL(pgDatabase.url)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(pgDatabase.url)
  viaProxy.host = `${proxy.host}:${proxy.port}`
  const opened = await openDatabase({ url: viaProxy.toString(), dataDir: '', poolSize: 2, connectTimeoutMs: 2000 })
  try {
    proxy.cut()
    assert.instance(await rejection(opened.database.listen('cut_channel', () => {})), DatabaseUnavailableError)
    proxy.restore()
    const heard: string[] = []
    let reconnects = 0
    await opened.database.listen('cut_channel', (payload) => void heard.push(`cut:${payload}`), { onReconnect: () => reconnects++ })
    // Notify over a direct connection, so only the listener depends on the proxy.
    const direct = backends.postgres!.database
    await direct.notify('cut_channel', 'before')
    await waitFor(() => heard.includes('cut:before'), { what: 'a notification before the cut' })
    proxy.cut()
    // Made while the connection is down: kept, and LISTENed when it is back.
    await opened.database.listen('later_channel', (payload) => void heard.push(`later:${payload}`), { onReconnect: () => reconnects++ })
    proxy.restore()
    await waitFor(() => reconnects === 2, { timeoutMs: 20_000, what: 'the listener to reconnect' })
    await direct.notify('cut_channel', 'after')
    await direct.notify('later_channel', 'after')
    await waitFor(() => heard.length === 3, { what: 'the notifications after the reconnect' })
    assert.equal(heard.sort(), ['cut:after', 'cut:before', 'later:after'])
  } finally {
    await opened.close()
    await proxy.close()
  }
})

test.run()
