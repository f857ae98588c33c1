// Wall clock <-> instant in an IANA timezone, computed with Intl.DateTimeFormat.
//
// Offsets are cached per day, and per 15 minutes on days with a transition; a bucket is cached
// only when its start and end have the same offset, so transitions are always computed exactly.
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
  readonly #format: Intl.DateTimeFormat | undefined
  /** Offset per bucket, NaN when the bucket holds a transition. */
  readonly #days = new Map<number, number>()
  readonly #quarters = new Map<number, number>()

  private constructor(name: string) {
    if (UTC_NAMES.has(name)) {
      this.name = name
      this.#format = undefined
      return
    }
    try {
      this.#format = new Intl.DateTimeFormat('en-US', {
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
    this.name = this.#format.resolvedOptions().timeZone
  }

  /** Offset of the zone at an instant, in ms (local minus UTC). */
  offsetAt(instant: number): number {
    if (!this.#format) return 0
    // Day buckets whose two ends agree hold no transition (zones never change offset twice in a
    // day); a day with a transition is split into 15-minute buckets the same way.
    const day = Math.floor(instant / DAY_MS)
    const byDay = this.#cached(this.#days, day, DAY_MS)
    if (byDay !== undefined) return byDay
    const quarter = Math.floor(instant / BUCKET_MS)
    const byQuarter = this.#cached(this.#quarters, quarter, BUCKET_MS)
    return byQuarter ?? this.#rawOffset(instant)
  }

  #cached(cache: Map<number, number>, bucket: number, size: number): number | undefined {
    const known = cache.get(bucket)
    if (known !== undefined) return Number.isNaN(known) ? undefined : known
    const start = bucket * size
    const atStart = this.#rawOffset(start)
    const value = atStart === this.#rawOffset(start + size - 1) ? atStart : NaN
    if (cache.size >= CACHE_LIMIT) cache.clear()
    cache.set(bucket, value)
    return Number.isNaN(value) ? undefined : value
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
    return { kind: 'skipped', transition: this.#transitionBetween(Math.min(first, second), Math.max(first, second)) }
  }

  /** First instant (whole second) in (lo, hi] whose offset differs from the offset at lo. */
  #transitionBetween(lo: number, hi: number): number {
    const startOffset = this.#rawOffset(lo)
    let a = Math.floor(lo / 1000)
    let b = Math.ceil(hi / 1000)
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2)
      if (this.#rawOffset(mid * 1000) === startOffset) a = mid
      else b = mid
    }
    return b * 1000
  }

  #rawOffset(instant: number): number {
    const whole = Math.floor(instant / 1000) * 1000
    let year = 0,
      month = 0,
      day = 0,
      hour = 0,
      minute = 0,
      second = 0
    for (const part of this.#format!.formatToParts(whole)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value)
          break
        case 'month':
          month = Number(part.value)
          break
        case 'day':
          day = Number(part.value)
          break
        case 'hour':
          hour = Number(part.value)
          break
        case 'minute':
          minute = Number(part.value)
          break
        case 'second':
          second = Number(part.value)
          break
      }
    }
    return wallToEpoch({ year, month, day, hour, minute, second }) - whole
  }
}
