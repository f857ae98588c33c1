// Parses a cron expression into field sets. Evaluation lives in next-run.ts.
//
// Grammar (5 fields, or 6 with a leading seconds field):
//   second minute hour day-of-month month day-of-week
//   item := * | ? | value | value-value | */step | value-value/step | value/step
//   day-of-month also: L (last day), LW (last weekday), nW (weekday nearest to n)
//   day-of-week also: nL (last n-day of the month), n#k (k-th n-day, k 1-5); 0 and 7 are Sunday
//   names: JAN-DEC, SUN-SAT (case-insensitive); nicknames @yearly @annually @monthly @weekly
//   @daily @midnight @hourly
import { CronSyntaxError, type CronField } from './errors.ts'

export interface CronExpression {
  /** The text as given. */
  readonly source: string
  /** The 6-field form the expression was read as (nicknames expanded, seconds added). */
  readonly normalized: string
  /** Allowed values; index = value. */
  readonly second: Uint8Array
  readonly minute: Uint8Array
  readonly hour: Uint8Array
  /** Plain day-of-month values 1-31. */
  readonly dayOfMonth: Uint8Array
  /** Months 1-12. */
  readonly month: Uint8Array
  /** Plain weekdays 0-6 (0 = Sunday). */
  readonly dayOfWeek: Uint8Array
  /** `L` in day-of-month. */
  readonly lastDayOfMonth: boolean
  /** `LW` in day-of-month. */
  readonly lastWeekdayOfMonth: boolean
  /** Days n of `nW`. */
  readonly nearestWeekday: readonly number[]
  /** Weekdays n of `nL`. */
  readonly lastWeekdayOf: readonly number[]
  /** Pairs [weekday, k] of `n#k`. */
  readonly nthWeekday: readonly (readonly [number, number])[]
  /** The day-of-month field starts with `*` or `?` (it does not restrict). */
  readonly domStar: boolean
  /** The day-of-week field starts with `*` or `?` (it does not restrict). */
  readonly dowStar: boolean
  /** next[x] = smallest allowed value >= x, or -1. One table per time field. */
  readonly nextSecond: Int8Array
  readonly nextMinute: Int8Array
  readonly nextHour: Int8Array
  readonly nextMonth: Int8Array
}

export const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

interface FieldSpec {
  readonly field: CronField
  readonly min: number
  readonly max: number
  /** Upper bound that `*` covers (day-of-week: 6, since 7 repeats Sunday). */
  readonly starMax: number
  readonly names?: readonly string[]
  /** Value of the first name (months start at 1). */
  readonly nameBase?: number
}

const SECOND: FieldSpec = { field: 'second', min: 0, max: 59, starMax: 59 }
const MINUTE: FieldSpec = { field: 'minute', min: 0, max: 59, starMax: 59 }
const HOUR: FieldSpec = { field: 'hour', min: 0, max: 23, starMax: 23 }
const DOM: FieldSpec = { field: 'day-of-month', min: 1, max: 31, starMax: 31 }
const MONTH: FieldSpec = { field: 'month', min: 1, max: 12, starMax: 12, names: MONTH_NAMES, nameBase: 1 }
const DOW: FieldSpec = { field: 'day-of-week', min: 0, max: 7, starMax: 6, names: DAY_NAMES, nameBase: 0 }

/** True when the text is a cron expression (as opposed to an interval). Does not validate. */
export function looksLikeCron(spec: string): boolean {
  const text = spec.trim()
  return text.startsWith('@') || text.split(/\s+/).length >= 5
}

/** Parses a cron expression. Throws CronSyntaxError naming the field and the value. */
export function parseCron(source: string): CronExpression {
  if (typeof source !== 'string') throw new CronSyntaxError('expression', String(source), `expected a string, got ${typeof source}`)
  let text = source.trim()
  if (text.startsWith('@')) {
    const expanded = NICKNAMES[text.toLowerCase()]
    if (!expanded) {
      throw new CronSyntaxError('expression', text, `${text} is not a known nickname (${Object.keys(NICKNAMES).join(', ')})`)
    }
    text = expanded
  }
  const parts = text.split(/\s+/).filter(Boolean)
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronSyntaxError(
      'expression',
      source,
      `expected 5 or 6 fields ([second] minute hour day-of-month month day-of-week) or a nickname such as @daily, got ${parts.length} in ${JSON.stringify(source)}`,
    )
  }
  if (parts.length === 5) parts.unshift('0')
  const [secText, minText, hourText, domText, monthText, dowText] = parts as [string, string, string, string, string, string]

  const second = parseSimple(SECOND, secText)
  const minute = parseSimple(MINUTE, minText)
  const hour = parseSimple(HOUR, hourText)
  const month = parseSimple(MONTH, monthText)
  const dom = parseDayOfMonth(domText)
  const dow = parseDayOfWeek(dowText)

  return {
    source,
    normalized: parts.join(' '),
    second,
    minute,
    hour,
    dayOfMonth: dom.values,
    month,
    dayOfWeek: dow.values,
    lastDayOfMonth: dom.last,
    lastWeekdayOfMonth: dom.lastWeekday,
    nearestWeekday: dom.nearest,
    lastWeekdayOf: dow.last,
    nthWeekday: dow.nth,
    domStar: domText.startsWith('*') || domText === '?',
    dowStar: dowText.startsWith('*') || dowText === '?',
    nextSecond: nextTable(second),
    nextMinute: nextTable(minute),
    nextHour: nextTable(hour),
    nextMonth: nextTable(month),
  }
}

function nextTable(allowed: Uint8Array): Int8Array {
  const table = new Int8Array(allowed.length + 1).fill(-1)
  let next = -1
  for (let v = allowed.length - 1; v >= 0; v--) {
    if (allowed[v]) next = v
    table[v] = next
  }
  return table
}

function fail(spec: FieldSpec, value: string, reason: string): never {
  throw new CronSyntaxError(spec.field, value, reason)
}

function rangeText(spec: FieldSpec): string {
  return `${spec.min}-${spec.max}`
}

/** A number or a name of the field; range-checked. */
function parseValue(spec: FieldSpec, text: string, item: string): number {
  let value: number
  if (/^\d+$/.test(text)) {
    value = Number(text)
  } else {
    const index = spec.names ? spec.names.indexOf(text.toUpperCase()) : -1
    if (index < 0) {
      const expected = spec.names ? `${rangeText(spec)} or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : rangeText(spec)
      fail(spec, item, `${text === '' ? `empty value in ${item}` : `${text} is not a valid value`} (expected ${expected})`)
    }
    value = index + spec.nameBase!
  }
  if (value < spec.min || value > spec.max) fail(spec, item, `${value} is out of range ${rangeText(spec)}`)
  return value
}

function parseStep(spec: FieldSpec, text: string, item: string): number {
  if (!/^\d+$/.test(text)) fail(spec, item, `step ${JSON.stringify(text)} in ${item} is not a number`)
  const step = Number(text)
  const span = spec.max - spec.min + 1
  if (step < 1 || step > span) fail(spec, item, `step ${step} in ${item} is out of range 1-${span}`)
  return step
}

/** Adds one list item made of *, values, ranges and steps to `out`. */
function addItem(spec: FieldSpec, item: string, out: Uint8Array): void {
  if (item === '') fail(spec, item, 'empty list item (check for a stray comma)')
  const slash = item.indexOf('/')
  const base = slash < 0 ? item : item.slice(0, slash)
  const step = slash < 0 ? 1 : parseStep(spec, item.slice(slash + 1), item)
  let from: number
  let to: number
  if (base === '*' || (base === '?' && (spec === DOM || spec === DOW))) {
    from = spec.min
    to = spec.starMax
  } else {
    const dash = base.indexOf('-', 1)
    if (dash < 0) {
      from = parseValue(spec, base, item)
      // `a/step` runs from a to the end of the field, as in cronie and Quartz.
      to = slash < 0 ? from : spec.starMax
    } else {
      from = parseValue(spec, base.slice(0, dash), item)
      const endText = base.slice(dash + 1)
      to = parseValue(spec, endText, item)
      // `FRI-SUN`: a range that ends on Sunday by name ends at 7.
      if (spec === DOW && to === 0 && from > 0 && endText.toUpperCase() === 'SUN') to = 7
      if (from > to) fail(spec, item, `range ${item} is reversed (start ${from} is after end ${to})`)
    }
  }
  for (let v = from; v <= to; v += step) out[v] = 1
}

function parseSimple(spec: FieldSpec, text: string): Uint8Array {
  const out = new Uint8Array(spec.max + 1)
  for (const item of text.split(',')) addItem(spec, item, out)
  return out
}

function parseDayOfMonth(text: string) {
  const values = new Uint8Array(32)
  const nearest: number[] = []
  let last = false
  let lastWeekday = false
  for (const item of text.split(',')) {
    const upper = item.toUpperCase()
    if (upper === 'L') last = true
    else if (upper === 'LW') lastWeekday = true
    else if (/^\d+W$/.test(upper)) nearest.push(parseValue(DOM, upper.slice(0, -1), item))
    else if (/[LW#]/.test(upper)) fail(DOM, item, `${item} is not valid here (day-of-month takes L, LW or nW such as 15W)`)
    else addItem(DOM, item, values)
  }
  return { values, nearest, last, lastWeekday }
}

function parseDayOfWeek(text: string) {
  const values = new Uint8Array(8)
  const last: number[] = []
  const nth: [number, number][] = []
  for (const item of text.split(',')) {
    const hash = item.indexOf('#')
    if (hash >= 0) {
      const day = parseValue(DOW, item.slice(0, hash), item) % 7
      const kText = item.slice(hash + 1)
      const k = /^\d+$/.test(kText) ? Number(kText) : NaN
      if (!(k >= 1 && k <= 5)) fail(DOW, item, `${kText} in ${item} is out of range 1-5 (the k-th weekday of the month)`)
      nth.push([day, k])
    } else if (/^(\d+|[a-z]{3})L$/i.test(item)) {
      last.push(parseValue(DOW, item.slice(0, -1), item) % 7)
    } else {
      addItem(DOW, item, values)
    }
  }
  if (values[7]) values[0] = 1
  return { values: values.subarray(0, 7), last, nth }
}
