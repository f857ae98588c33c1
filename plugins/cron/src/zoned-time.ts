// Wall clock <-> instant in an IANA timezone, computed with Intl.DateTimeFormat.
//
// Offsets are cached per 15-minute bucket, and only for buckets whose start and end have the
// same offset, so a bucket that contains a transition is always computed exactly.
import { TimezoneError } from './errors.ts'

/** A local date and time, month 1-12, to the second. */
export interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

/** Where a wall time falls on the timeline. */
export type Resolution =
  /** The wall time occurs once. */
  | { kind: 'unique'; instant: number }
  /** The wall time occurs twice (a fall-back hour); earlier first. */
  | { kind: 'repeated'; instants: [number, number] }
  /** The wall time was skipped (spring-forward); `transition` is the first instant after the gap. */
  | { kind: 'skipped'; transition: number }

const BUCKET_MS = 15 * 60_000
const CACHE_LIMIT = 8192
const DAY_MS = 86_400_000
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Zulu', 'Zulu', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal'])

const zones = new Map<string, Zone>()

/** Wall time of an instant read as UTC: Date.UTC of the fields, to the millisecond. */
export function wallToEpoch(w: WallTime): number {
  const ms = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  if (w.year >= 0 && w.year < 100) {
    const d = new Date(ms)
    d.setUTCFullYear(w.year)
    return d.getTime()
  }
  return ms
}

export function epochToWall(ms: number): WallTime {
  const d = new Date(ms)
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  }
}

/** The system's timezone (used when a job names none). */
export function systemTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

export class Zone {
  /** The zone for an IANA name (cached). Throws TimezoneError for unknown names. */
  static get(name?: string): Zone {
    const key = name ?? systemTimezone()
    let zone = zones.get(key)
    if (!zone) {
      zone = new Zone(key)
      zones.set(key, zone)
    }
    return zone
  }

  readonly name: string
  private readonly format: Intl.DateTimeFormat | undefined
  private readonly offsets = new Map<number, number>()

  private constructor(name: string) {
    if (UTC_NAMES.has(name)) {
      this.name = name
      this.format = undefined
      return
    }
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    } catch {
      throw new TimezoneError(name)
    }
    this.name = this.format.resolvedOptions().timeZone
  }

  /** Offset of the zone at an instant, in ms (local minus UTC). */
  offsetAt(instant: number): number {
    if (!this.format) return 0
    const bucket = Math.floor(instant / BUCKET_MS)
    const cached = this.offsets.get(bucket)
    if (cached !== undefined) return cached
    const start = bucket * BUCKET_MS
    const atStart = this.rawOffset(start)
    const atEnd = this.rawOffset(start + BUCKET_MS - 1)
    if (atStart === atEnd) {
      if (this.offsets.size >= CACHE_LIMIT) this.offsets.clear()
      this.offsets.set(bucket, atStart)
      return atStart
    }
    return this.rawOffset(instant)
  }

  /** Local wall time of an instant (milliseconds dropped). */
  wallTime(instant: number): WallTime {
    return epochToWall(Math.floor(instant / 1000) * 1000 + this.offsetAt(instant))
  }

  /** Where a wall time falls: once, twice (fall-back) or not at all (spring-forward). */
  resolve(wall: WallTime): Resolution {
    const local = wallToEpoch(wall)
    // At most one transition lies within a day either side of any real wall time.
    const before = this.offsetAt(local - DAY_MS)
    const after = this.offsetAt(local + DAY_MS)
    const first = local - before
    const firstValid = this.offsetAt(first) === before
    if (before === after) {
      if (firstValid) return { kind: 'unique', instant: first }
      // Two transitions close together are not modelled; fall back to the exact offset.
      return { kind: 'unique', instant: local - this.offsetAt(first) }
    }
    const second = local - after
    const secondValid = this.offsetAt(second) === after
    if (firstValid && secondValid && first !== second) {
      return { kind: 'repeated', instants: first < second ? [first, second] : [second, first] }
    }
    if (firstValid) return { kind: 'unique', instant: first }
    if (secondValid) return { kind: 'unique', instant: second }
    return { kind: 'skipped', transition: this.transitionBetween(Math.min(first, second), Math.max(first, second)) }
  }

  /** First instant (whole second) in (lo, hi] whose offset differs from the offset at lo. */
  private transitionBetween(lo: number, hi: number): number {
    const startOffset = this.rawOffset(lo)
    let a = Math.floor(lo / 1000)
    let b = Math.ceil(hi / 1000)
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2)
      if (this.rawOffset(mid * 1000) === startOffset) a = mid
      else b = mid
    }
    return b * 1000
  }

  private rawOffset(instant: number): number {
    const whole = Math.floor(instant / 1000) * 1000
    let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
    for (const part of this.format!.formatToParts(whole)) {
      switch (part.type) {
        case 'year': year = Number(part.value); break
        case 'month': month = Number(part.value); break
        case 'day': day = Number(part.value); break
        case 'hour': hour = Number(part.value); break
        case 'minute': minute = Number(part.value); break
        case 'second': second = Number(part.value); break
      }
    }
    return wallToEpoch({ year, month, day, hour, minute, second }) - whole
  }
}
