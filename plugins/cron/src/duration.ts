// Interval specs: "30s", "5m", "1h30m", "250ms", "1d", or a number of milliseconds.
import { DurationSyntaxError } from './errors.ts'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g

/** True when the text looks like an interval rather than a cron expression. */
export function isDuration(spec: string | number): boolean {
  return typeof spec === 'number' || WHOLE.test(spec.trim())
}

/** Parses an interval into whole milliseconds (at least 1). Throws DurationSyntaxError. */
export function parseDuration(spec: string | number): number {
  let ms: number
  if (typeof spec === 'number') {
    ms = spec
  } else {
    const text = spec.trim()
    if (!WHOLE.test(text)) {
      throw new DurationSyntaxError(spec, 'expected a number followed by ms, s, m, h or d, e.g. "30s", "5m", "1h30m"')
    }
    ms = 0
    for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!
  }
  if (!Number.isFinite(ms) || ms < 1) throw new DurationSyntaxError(String(spec), 'must be at least 1 ms')
  return Math.round(ms)
}

/** Formats milliseconds the way parseDuration reads them back ("1h30m", "250ms"). */
export function formatDuration(ms: number): string {
  let rest = ms
  let out = ''
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) {
      out += `${n}${unit}`
      rest -= n * size
    }
  }
  return out || '0ms'
}
