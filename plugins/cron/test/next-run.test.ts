import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseCron } from '../src/cron-expression.ts'
import { nextCronRun, nextCronRuns } from '../src/next-run.ts'
import { parseSchedule } from '../src/schedule.ts'
import { Zone } from '../src/zoned-time.ts'
import { TimezoneError } from '../src/errors.ts'

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z')
const runs = (expr: string, from: string, tz = 'UTC', n = 3) => nextCronRuns(parseCron(expr), n, Date.parse(from), Zone.get(tz)).map(iso)

// From Monday 2024-01-15 10:00:00 UTC.
const FROM = '2024-01-15T10:00:00Z'
const table: [string, string[]][] = [
  ['* * * * *', ['2024-01-15T10:01:00Z', '2024-01-15T10:02:00Z', '2024-01-15T10:03:00Z']],
  ['*/10 * * * * *', ['2024-01-15T10:00:10Z', '2024-01-15T10:00:20Z', '2024-01-15T10:00:30Z']],
  ['0 9 * * MON-FRI', ['2024-01-16T09:00:00Z', '2024-01-17T09:00:00Z', '2024-01-18T09:00:00Z']],
  ['30 4 1,15 * *', ['2024-02-01T04:30:00Z', '2024-02-15T04:30:00Z', '2024-03-01T04:30:00Z']],
  ['0 0 1 jan *', ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']],
  ['0 12 * * sun', ['2024-01-21T12:00:00Z', '2024-01-28T12:00:00Z', '2024-02-04T12:00:00Z']],
  ['0 0 0 29 2 *', ['2024-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']],
  ['0 */6 * * *', ['2024-01-15T12:00:00Z', '2024-01-15T18:00:00Z', '2024-01-16T00:00:00Z']],
  ['5-10/2 8 * * *', ['2024-01-16T08:05:00Z', '2024-01-16T08:07:00Z', '2024-01-16T08:09:00Z']],
  ['0 0 31 * *', ['2024-01-31T00:00:00Z', '2024-03-31T00:00:00Z', '2024-05-31T00:00:00Z']],
  ['0 22 * * 1-5', ['2024-01-15T22:00:00Z', '2024-01-16T22:00:00Z', '2024-01-17T22:00:00Z']],
  ['0 0 * 2,4 *', ['2024-02-01T00:00:00Z', '2024-02-02T00:00:00Z', '2024-02-03T00:00:00Z']],
  // Both day fields restrict: either matches (13th or a Friday).
  ['0 0 13 * 5', ['2024-01-19T00:00:00Z', '2024-01-26T00:00:00Z', '2024-02-02T00:00:00Z']],
  ['0 0 ? * 7', ['2024-01-21T00:00:00Z', '2024-01-28T00:00:00Z', '2024-02-04T00:00:00Z']],
  ['@hourly', ['2024-01-15T11:00:00Z', '2024-01-15T12:00:00Z', '2024-01-15T13:00:00Z']],
  ['@daily', ['2024-01-16T00:00:00Z', '2024-01-17T00:00:00Z', '2024-01-18T00:00:00Z']],
  ['@weekly', ['2024-01-21T00:00:00Z', '2024-01-28T00:00:00Z', '2024-02-04T00:00:00Z']],
  ['@monthly', ['2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z']],
  ['@yearly', ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']],
]

test('a table of expressions and their next runs (UTC)', () => {
  for (const [expr, expected] of table) assert.equal(runs(expr, FROM), expected, expr)
})

test('0 0 0 29 2 * runs on the next leap day', () => {
  assert.equal(runs('0 0 0 29 2 *', '2024-03-01T00:00:00Z', 'UTC', 1), ['2028-02-29T00:00:00Z'])
  // 2100 is not a leap year.
  assert.equal(runs('0 0 0 29 2 *', '2096-03-01T00:00:00Z', 'UTC', 1), ['2104-02-29T00:00:00Z'])
})

test('strictly after: a matching start instant is not returned', () => {
  assert.equal(runs('0 0 * * *', '2024-01-16T00:00:00Z', 'UTC', 1), ['2024-01-17T00:00:00Z'])
  assert.equal(runs('* * * * * *', '2024-01-16T00:00:00.500Z', 'UTC', 1), ['2024-01-16T00:00:01Z'])
})

test('an expression that never matches gives null', () => {
  assert.is(nextCronRun(parseCron('0 0 30 2 *'), Date.parse(FROM), Zone.get('UTC')), null)
  assert.is(nextCronRun(parseCron('0 0 31 4 *'), Date.parse(FROM), Zone.get('UTC')), null)
})

test('L: last day of month, including February', () => {
  assert.equal(runs('0 0 L * *', FROM), ['2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z'])
  assert.equal(runs('0 0 L 2 *', '2025-01-01T00:00:00Z', 'UTC', 1), ['2025-02-28T00:00:00Z'])
})

test('LW: last weekday of month', () => {
  // 2024-03-31 is a Sunday, 2024-08-31 a Saturday.
  assert.equal(runs('0 0 LW * *', FROM), ['2024-01-31T00:00:00Z', '2024-02-29T00:00:00Z', '2024-03-29T00:00:00Z'])
  assert.equal(runs('0 0 LW 8 *', FROM, 'UTC', 1), ['2024-08-30T00:00:00Z'])
})

test('nW: nearest weekday, never leaving the month', () => {
  // 2024-06-15 is a Saturday -> Friday 14th; 2024-09-15 a Sunday -> Monday 16th.
  assert.equal(runs('0 0 15W 6 *', FROM, 'UTC', 1), ['2024-06-14T00:00:00Z'])
  assert.equal(runs('0 0 15W 9 *', FROM, 'UTC', 1), ['2024-09-16T00:00:00Z'])
  // 2024-06-01 is a Saturday -> Monday 3rd, not Friday 31 May.
  assert.equal(runs('0 0 1W 6 *', FROM, 'UTC', 1), ['2024-06-03T00:00:00Z'])
  // 2024-03-31 is a Sunday -> Friday 29th, not Monday 1 April.
  assert.equal(runs('0 0 31W 3 *', FROM, 'UTC', 1), ['2024-03-29T00:00:00Z'])
  // No 31st in April: 31W never fires there.
  assert.is(nextCronRun(parseCron('0 0 31W 4 *'), Date.parse(FROM), Zone.get('UTC')), null)
})

test('nL: last given weekday of the month', () => {
  assert.equal(runs('0 0 * * 5L', FROM), ['2024-01-26T00:00:00Z', '2024-02-23T00:00:00Z', '2024-03-29T00:00:00Z'])
  assert.equal(runs('0 0 * * SUNL', FROM, 'UTC', 2), ['2024-01-28T00:00:00Z', '2024-02-25T00:00:00Z'])
})

test('n#k: k-th given weekday of the month', () => {
  assert.equal(runs('0 0 * * 2#3', FROM), ['2024-01-16T00:00:00Z', '2024-02-20T00:00:00Z', '2024-03-19T00:00:00Z'])
  // A fifth Thursday exists only in some months.
  assert.equal(runs('0 0 * * 4#5', FROM), ['2024-02-29T00:00:00Z', '2024-05-30T00:00:00Z', '2024-08-29T00:00:00Z'])
})

// --- DST ---------------------------------------------------------------------------------

test('America/New_York spring-forward: a skipped time runs at the transition', () => {
  // 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z).
  assert.equal(runs('30 2 * * *', '2024-03-09T12:00:00Z', 'America/New_York'), ['2024-03-10T07:00:00Z', '2024-03-11T06:30:00Z', '2024-03-12T06:30:00Z'])
  // Three skipped times (02:00, 02:20, 02:40) collapse into one run at 03:00 EDT.
  assert.equal(runs('*/20 * * * *', '2024-03-10T06:30:00Z', 'America/New_York', 4), [
    '2024-03-10T06:40:00Z',
    '2024-03-10T07:00:00Z',
    '2024-03-10T07:20:00Z',
    '2024-03-10T07:40:00Z',
  ])
})

test('America/New_York fall-back: a repeated time runs once', () => {
  // 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z); 01:30 happens at 05:30Z and 06:30Z.
  assert.equal(runs('30 1 * * *', '2024-11-02T12:00:00Z', 'America/New_York'), ['2024-11-03T05:30:00Z', '2024-11-04T06:30:00Z', '2024-11-05T06:30:00Z'])
  assert.equal(runs('*/20 * * * *', '2024-11-03T05:30:00Z', 'America/New_York', 4), [
    '2024-11-03T05:40:00Z',
    '2024-11-03T07:00:00Z',
    '2024-11-03T07:20:00Z',
    '2024-11-03T07:40:00Z',
  ])
  // Starting inside the second pass of the hour: its remaining times still run once.
  assert.equal(runs('30 1 * * *', '2024-11-03T06:10:00Z', 'America/New_York', 1), ['2024-11-03T06:30:00Z'])
})

test('Europe/Berlin: both transitions', () => {
  // 2024-03-31 02:00 CET -> 03:00 CEST at 01:00Z.
  assert.equal(runs('30 2 * * *', '2024-03-30T12:00:00Z', 'Europe/Berlin', 2), ['2024-03-31T01:00:00Z', '2024-04-01T00:30:00Z'])
  // 2024-10-27 03:00 CEST -> 02:00 CET at 01:00Z; 02:30 happens at 00:30Z and 01:30Z.
  assert.equal(runs('30 2 * * *', '2024-10-26T12:00:00Z', 'Europe/Berlin', 2), ['2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z'])
  assert.equal(runs('0 * * * *', '2024-10-26T23:30:00Z', 'Europe/Berlin', 3), ['2024-10-27T00:00:00Z', '2024-10-27T02:00:00Z', '2024-10-27T03:00:00Z'])
})

test('Australia/Lord_Howe: 30-minute shifts', () => {
  // 2024-10-06 02:00 +10:30 -> 02:30 +11:00 at 2024-10-05T15:30Z.
  assert.equal(runs('15 2 * * *', '2024-10-05T00:00:00Z', 'Australia/Lord_Howe', 2), ['2024-10-05T15:30:00Z', '2024-10-06T15:15:00Z'])
  assert.equal(runs('*/10 * * * *', '2024-10-05T15:15:00Z', 'Australia/Lord_Howe', 3), ['2024-10-05T15:20:00Z', '2024-10-05T15:30:00Z', '2024-10-05T15:40:00Z'])
  // 2024-04-07 02:00 +11:00 -> 01:30 +10:30 at 2024-04-06T15:00Z; 01:45 happens at 14:45Z and 15:15Z.
  assert.equal(runs('45 1 * * *', '2024-04-06T00:00:00Z', 'Australia/Lord_Howe', 2), ['2024-04-06T14:45:00Z', '2024-04-07T15:15:00Z'])
})

test('zone resolution reports unique, repeated and skipped wall times', () => {
  const ny = Zone.get('America/New_York')
  const wall = (hour: number, day: number, month: number) => ({ year: 2024, month, day, hour, minute: 30, second: 0 })
  assert.equal(ny.resolve(wall(12, 1, 7)), { kind: 'unique', instant: Date.parse('2024-07-01T16:30:00Z') })
  assert.equal(ny.resolve(wall(1, 3, 11)), {
    kind: 'repeated',
    instants: [Date.parse('2024-11-03T05:30:00Z'), Date.parse('2024-11-03T06:30:00Z')],
  })
  assert.equal(ny.resolve(wall(2, 10, 3)), { kind: 'skipped', transition: Date.parse('2024-03-10T07:00:00Z') })
  assert.equal(ny.wallTime(Date.parse('2024-11-03T06:30:00Z')), { year: 2024, month: 11, day: 3, hour: 1, minute: 30, second: 0 })
})

test('an unknown timezone is a TimezoneError', () => {
  assert.throws(
    () => Zone.get('Mars/Olympus'),
    (e: unknown) => e instanceof TimezoneError && /Mars\/Olympus/.test(String(e)),
  )
})

test('intervals run at anchor + k * interval, independent of when asked', () => {
  const s = parseSchedule('1h30m', { anchor: Date.parse('2024-01-01T00:00:00Z') })
  assert.is(iso(s.next(Date.parse('2024-01-01T00:00:00Z'))!), '2024-01-01T01:30:00Z')
  assert.is(iso(s.next(Date.parse('2024-01-01T01:29:59.999Z'))!), '2024-01-01T01:30:00Z')
  assert.is(iso(s.next(Date.parse('2024-01-01T01:30:00Z'))!), '2024-01-01T03:00:00Z')
  assert.is(iso(s.next(Date.parse('2023-12-31T00:00:00Z'))!), '2024-01-01T00:00:00Z')
  assert.equal(parseSchedule(500, { anchor: 0 }).upcoming(3, 100), [500, 1000, 1500])
  assert.is(parseSchedule('*/5 * * * *', { timezone: 'UTC' }).kind, 'cron')
})

test.run()
