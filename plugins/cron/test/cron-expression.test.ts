import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseCron } from '../src/cron-expression.ts'
import { CronSyntaxError } from '../src/errors.ts'

const values = (set: Uint8Array) => [...set].flatMap((v, i) => (v ? [i] : []))

test('5 fields get a zero seconds field; 6 fields keep theirs', () => {
  assert.equal(values(parseCron('* * * * *').second), [0])
  assert.is(parseCron('*/20 * * * * *').normalized, '*/20 * * * * *')
  assert.equal(values(parseCron('*/20 * * * * *').second), [0, 20, 40])
})

test('lists, ranges, steps and open steps', () => {
  const e = parseCron('1,5,10-12 8-18/5 * * *')
  assert.equal(values(e.minute), [1, 5, 10, 11, 12])
  assert.equal(values(e.hour), [8, 13, 18])
  assert.equal(values(parseCron('0 10/20 * * *').hour), [10])
  assert.equal(values(parseCron('10/20 * * * *').minute), [10, 30, 50])
})

test('month and weekday names, 7 is Sunday', () => {
  const e = parseCron('0 0 * jan,MAR-may mon-FRI')
  assert.equal(values(e.month), [1, 3, 4, 5])
  assert.equal(values(e.dayOfWeek), [1, 2, 3, 4, 5])
  assert.equal(values(parseCron('0 0 * * 7').dayOfWeek), [0])
  assert.equal(values(parseCron('0 0 * * 5-7').dayOfWeek), [0, 5, 6])
  assert.equal(values(parseCron('0 0 * * */3').dayOfWeek), [0, 3, 6])
})

test('L, LW, nW, nL and n#k', () => {
  const dom = parseCron('0 0 L,LW,15W * *')
  assert.ok(dom.lastDayOfMonth)
  assert.ok(dom.lastWeekdayOfMonth)
  assert.equal(dom.nearestWeekday, [15])
  const dow = parseCron('0 0 * * 5L,FRI#2,1#5')
  assert.equal(dow.lastWeekdayOf, [5])
  assert.equal(dow.nthWeekday, [
    [5, 2],
    [1, 5],
  ])
})

test('nicknames', () => {
  assert.is(parseCron('@hourly').normalized, '0 0 * * * *')
  assert.is(parseCron('@daily').normalized, '0 0 0 * * *')
  assert.is(parseCron('@midnight').normalized, '0 0 0 * * *')
  assert.is(parseCron('@weekly').normalized, '0 0 0 * * 0')
  assert.is(parseCron('@monthly').normalized, '0 0 0 1 * *')
  assert.is(parseCron('@yearly').normalized, '0 0 0 1 1 *')
  assert.is(parseCron('@ANNUALLY').normalized, '0 0 0 1 1 *')
})

test('day fields: a field starting with * or ? does not restrict', () => {
  assert.ok(parseCron('0 0 * * 1').domStar)
  assert.ok(!parseCron('0 0 * * 1').dowStar)
  assert.ok(parseCron('0 0 */2 * 1').domStar)
  assert.ok(parseCron('0 0 1 * ?').dowStar)
})

const errors: [string, string][] = [
  ['0 0 32 * *', 'day-of-month: 32 is out of range 1-31'],
  ['0 0 0 * *', 'day-of-month: 0 is out of range 1-31'],
  ['60 * * * * *', 'second: 60 is out of range 0-59'],
  ['60 * * * *', 'minute: 60 is out of range 0-59'],
  ['0 24 * * *', 'hour: 24 is out of range 0-23'],
  ['0 0 * 13 *', 'month: 13 is out of range 1-12'],
  ['0 0 * * 8', 'day-of-week: 8 is out of range 0-7'],
  ['0 0 * FOO *', 'month: FOO is not a valid value (expected 1-12 or JAN-DEC)'],
  ['x * * * *', 'minute: x is not a valid value (expected 0-59)'],
  ['*/0 * * * *', 'minute: step 0 in */0 is out of range 1-60'],
  ['*/a * * * *', 'minute: step "a" in */a is not a number'],
  ['0 5-1 * * *', 'hour: range 5-1 is reversed (start 5 is after end 1)'],
  ['1,,2 * * * *', 'minute: empty list item (check for a stray comma)'],
  ['0 0 32W * *', 'day-of-month: 32 is out of range 1-31'],
  ['0 0 L3 * *', 'day-of-month: L3 is not valid here (day-of-month takes L, LW or nW such as 15W)'],
  ['0 0 * * 5#6', 'day-of-week: 6 in 5#6 is out of range 1-5 (the k-th weekday of the month)'],
  ['0 0 * * 9L', 'day-of-week: 9 is out of range 0-7'],
  ['0 L * * *', 'hour: L is not a valid value (expected 0-23)'],
  ['* * *', 'expression: expected 5 or 6 fields ([second] minute hour day-of-month month day-of-week) or a nickname such as @daily, got 3 in "* * *"'],
  ['* * * * * * *', 'expression: expected 5 or 6 fields ([second] minute hour day-of-month month day-of-week) or a nickname such as @daily, got 7 in "* * * * * * *"'],
  ['@reboot', 'expression: @reboot is not a known nickname (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)'],
]

test('errors name the field and the value', () => {
  for (const [expr, message] of errors) {
    try {
      parseCron(expr)
      assert.unreachable(`${expr} should not parse`)
    } catch (e) {
      assert.instance(e, CronSyntaxError, expr)
      assert.is((e as Error).message, message, expr)
      assert.is((e as Error).name, 'CronSyntaxError')
    }
  }
})

test('the error carries field and value', () => {
  try {
    parseCron('0 0 32 * *')
  } catch (e) {
    const err = e as CronSyntaxError
    assert.is(err.field, 'day-of-month')
    assert.is(err.value, '32')
  }
})

test.run()
