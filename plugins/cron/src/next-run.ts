// Next occurrence of a cron expression in a timezone, and the DST policy.
//
// The search runs on wall-clock fields, then maps the wall time to an instant:
// - a wall time skipped by spring-forward runs at the transition (the first instant after
//   the gap), as ISC cron does; several skipped times collapse into that one run;
// - a wall time repeated by fall-back runs once, at its first occurrence (or at the second
//   when the search starts between the two).
import type { CronExpression } from './cron-expression.ts'
import { Zone, type WallTime } from './zoned-time.ts'

/** How far ahead the search looks before declaring that an expression never matches. */
const SEARCH_YEARS = 400

function daysInMonth(year: number, month: number): number {
  return month === 2 ? ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
}

/** Weekday (0 = Sunday) of a date. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay()
}

function nearestWeekday(day: number, dim: number, dow: number): number {
  if (dow === 6) return day === 1 ? 3 : day - 1
  if (dow === 0) return day === dim ? day - 2 : day + 1
  return day
}

/** Bit d (1-31) set when day d of the month matches the day fields. */
export function dayMask(expr: CronExpression, year: number, month: number): number {
  const dim = daysInMonth(year, month)
  const all = dim === 31 ? 0xfffffffe | 0 : ((1 << (dim + 1)) - 2) | 0
  const first = weekday(year, month, 1)
  let dom = 0
  for (let d = 1; d <= dim; d++) if (expr.dayOfMonth[d]) dom |= 1 << d
  if (expr.lastDayOfMonth) dom |= 1 << dim
  if (expr.lastWeekdayOfMonth) dom |= 1 << nearestWeekday(dim, dim, (first + dim - 1) % 7)
  for (const n of expr.nearestWeekday) {
    if (n <= dim) dom |= 1 << nearestWeekday(n, dim, (first + n - 1) % 7)
  }
  let dow = 0
  for (let d = 1; d <= dim; d++) if (expr.dayOfWeek[(first + d - 1) % 7]) dow |= 1 << d
  for (const wd of expr.lastWeekdayOf) {
    const lastWd = (first + dim - 1) % 7
    dow |= 1 << (dim - ((lastWd - wd + 7) % 7))
  }
  for (const [wd, k] of expr.nthWeekday) {
    const d = 1 + ((wd - first + 7) % 7) + (k - 1) * 7
    if (d <= dim) dow |= 1 << d
  }
  // As in Vixie/ISC cron: when either day field starts with * (or ?) a day must match both;
  // when both restrict, a day matches either one.
  return (expr.domStar || expr.dowStar ? dom & dow : dom | dow) & all
}

function firstDayFrom(mask: number, day: number): number {
  if (day > 31) return -1
  const rest = (mask >>> day) << day
  if (rest === 0) return -1
  return 31 - Math.clz32(rest & -rest)
}

/** The first wall time strictly after `from` that matches, or null within SEARCH_YEARS. */
export function nextWallTime(expr: CronExpression, from: WallTime): WallTime | null {
  let { year, month, day, hour, minute } = from
  let second = from.second + 1
  const lastYear = year + SEARCH_YEARS
  let maskKey = -1
  let mask = 0
  for (;;) {
    if (second > 59) {
      second = 0
      minute++
    }
    if (minute > 59) {
      minute = 0
      hour++
    }
    if (hour > 23) {
      hour = 0
      day++
    }
    if (month > 12) {
      month = 1
      year++
    }
    if (year > lastYear) return null

    const m = expr.nextMonth[month]!
    if (m < 0) {
      year++
      month = 1
      day = 1
      hour = 0
      minute = 0
      second = 0
      continue
    }
    if (m !== month) {
      month = m
      day = 1
      hour = 0
      minute = 0
      second = 0
    }

    const key = year * 16 + month
    if (key !== maskKey) {
      maskKey = key
      mask = dayMask(expr, year, month)
    }
    const d = firstDayFrom(mask, day)
    if (d < 0) {
      month++
      day = 1
      hour = 0
      minute = 0
      second = 0
      continue
    }
    if (d !== day) {
      day = d
      hour = 0
      minute = 0
      second = 0
    }

    const h = expr.nextHour[hour]!
    if (h < 0) {
      day++
      hour = 0
      minute = 0
      second = 0
      continue
    }
    if (h !== hour) {
      hour = h
      minute = 0
      second = 0
    }

    const mi = expr.nextMinute[minute]!
    if (mi < 0) {
      hour++
      minute = 0
      second = 0
      continue
    }
    if (mi !== minute) {
      minute = mi
      second = 0
    }

    const s = expr.nextSecond[second]!
    if (s < 0) {
      minute++
      second = 0
      continue
    }
    return { year, month, day, hour, minute, second: s }
  }
}

/** The first instant strictly after `after` (epoch ms) at which the expression fires in the zone. */
export function nextCronRun(expr: CronExpression, after: number, zone: Zone): number | null {
  let wall = zone.wallTime(after)
  // A handful of rounds covers a search that starts inside a repeated hour.
  for (let round = 0; round < 8; round++) {
    const next = nextWallTime(expr, wall)
    if (!next) return null
    const at = zone.resolve(next)
    if (at.kind === 'unique') {
      if (at.instant > after) return at.instant
    } else if (at.kind === 'repeated') {
      if (at.instants[0] > after) return at.instants[0]
      if (at.instants[1] > after) return at.instants[1]
    } else if (at.transition > after) {
      return at.transition
    }
    wall = next
  }
  return null
}

/** The next `count` instants after `after` (epoch ms). */
export function nextCronRuns(expr: CronExpression, count: number, after: number, zone: Zone): number[] {
  const out: number[] = []
  let t = after
  while (out.length < count) {
    const next = nextCronRun(expr, t, zone)
    if (next === null) break
    out.push(next)
    t = next
  }
  return out
}
