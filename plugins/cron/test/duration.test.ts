import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatDuration, isDuration, parseDuration } from '../src/duration.ts'
import { DurationSyntaxError } from '../src/errors.ts'

test('reads units and compound intervals', () => {
  assert.is(parseDuration('250ms'), 250)
  assert.is(parseDuration('30s'), 30_000)
  assert.is(parseDuration('5m'), 300_000)
  assert.is(parseDuration('1h30m'), 5_400_000)
  assert.is(parseDuration('1d2h'), 93_600_000)
  assert.is(parseDuration('1.5s'), 1500)
  assert.is(parseDuration(42), 42)
})

test('rejects malformed and non-positive intervals', () => {
  for (const bad of ['5x', '', 'm5', '1h 30m', '0s', -1, 0, Number.NaN]) {
    assert.throws(
      () => parseDuration(bad as string | number),
      (e: unknown) => e instanceof DurationSyntaxError,
    )
  }
  assert.throws(() => parseDuration('5x'), /duration "5x": expected a number followed by ms, s, m, h or d/)
})

test('tells intervals from cron expressions and formats back', () => {
  assert.ok(isDuration('30s'))
  assert.ok(!isDuration('*/5 * * * *'))
  assert.is(formatDuration(5_400_000), '1h30m')
  assert.is(formatDuration(100), '100ms')
})

test.run()
