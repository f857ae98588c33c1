// Declared plugin options: a default plus the values it accepts, checked by the kernel before
// any setup runs, so `DB_POOL_SIZE=0` stops the boot with one line instead of failing a plugin.
import { OPTION, type ConfigValue, type OptionSpec } from './config-shape.ts'

interface Range {
  min?: number
  max?: number
}

function spec<T extends ConfigValue>(value: T, accepts: string, check: (v: T) => string | undefined, parse?: (raw: string) => T | undefined): OptionSpec<T> {
  const made: OptionSpec<T> = { [OPTION]: true, default: value, accepts, check, ...(parse ? { parse } : {}) }
  const invalid = check(value)
  if (invalid) throw new TypeError(`option default ${JSON.stringify(value)}: ${invalid}`)
  return Object.freeze(made)
}

function rangeText(kind: string, { min, max }: Range): string {
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`
  if (min !== undefined) return `${kind} >= ${min}`
  if (max !== undefined) return `${kind} <= ${max}`
  return kind
}

function checkRange(n: number, { min, max }: Range): string | undefined {
  if (min !== undefined && n < min) return `must be >= ${min}`
  if (max !== undefined && n > max) return `must be <= ${max}`
  return undefined
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `250`, `250ms`, `30s`, `5m`, `1h`, `7d` -> milliseconds. */
function parseDuration(raw: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw)
  if (!match) return undefined
  const ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined
}

export const option = {
  /** A whole number, optionally bounded. */
  int(value: number, range: Range = {}): OptionSpec<number> {
    return spec(value, rangeText('an integer', range), (n) => (Number.isInteger(n) ? checkRange(n, range) : 'must be an integer'))
  },

  /** Any finite number, optionally bounded. */
  number(value: number, range: Range = {}): OptionSpec<number> {
    return spec(value, rangeText('a number', range), (n) => (Number.isFinite(n) ? checkRange(n, range) : 'must be a finite number'))
  },

  /** A duration in milliseconds; from the environment also `500ms`, `30s`, `5m`, `1h`. */
  duration(ms: number, range: Range = {}): OptionSpec<number> {
    return spec(
      ms,
      rangeText('a duration in ms (or 500ms, 30s, 5m, 1h, 7d)', range),
      (n) => (Number.isInteger(n) && n >= 0 ? checkRange(n, range) : 'must be a whole number of ms >= 0'),
      parseDuration,
    )
  },

  /** One of a fixed set of strings. */
  enum<const V extends readonly [string, ...string[]]>(values: V, value: V[number]): OptionSpec<V[number]> {
    return spec<V[number]>(value, `one of ${values.join(', ')}`, (v) => (values.includes(v) ? undefined : `must be one of ${values.join(', ')}`))
  },

  /** A string, optionally non-empty or matching a pattern. */
  string(value: string, rules: { nonEmpty?: boolean; pattern?: RegExp; maxLength?: number } = {}): OptionSpec<string> {
    const accepts = [
      rules.nonEmpty ? 'a non-empty string' : 'a string',
      rules.pattern ? `matching ${rules.pattern}` : '',
      rules.maxLength ? `of at most ${rules.maxLength} characters` : '',
    ]
      .filter(Boolean)
      .join(' ')
    return spec(value, accepts, (s) => {
      if (rules.nonEmpty && s === '') return 'must not be empty'
      if (rules.maxLength !== undefined && s.length > rules.maxLength) return `must be at most ${rules.maxLength} characters`
      if (rules.pattern && s !== '' && !rules.pattern.test(s)) return `must match ${rules.pattern}`
      return undefined
    })
  },

  /** An absolute URL with one of the given protocols; `''` is allowed when the default is `''` (unset). */
  url(value: string, rules: { protocols?: string[] } = {}): OptionSpec<string> {
    const allowEmpty = value === ''
    const protocols = rules.protocols
    const accepts = `${protocols ? `a ${protocols.join(' or ')} URL` : 'an absolute URL'}${allowEmpty ? ' or empty' : ''}`
    return spec(value, accepts, (s) => {
      if (s === '') return allowEmpty ? undefined : 'must not be empty'
      let url: URL
      try {
        url = new URL(s)
      } catch {
        return `must be ${accepts}`
      }
      if (protocols && !protocols.includes(url.protocol)) return `must be ${accepts} (got ${url.protocol})`
      return undefined
    })
  },
}
