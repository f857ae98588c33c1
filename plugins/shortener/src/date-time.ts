// ISO 8601 date-times with a timezone, as the API documents them: `Date.parse` alone takes
// "Jan 1 2031" (the server's local time), rolls 2030-02-31 over into March and accepts
// years PostgreSQL's timestamptz cannot store.

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** The first instant past the accepted range: four-digit years (0001-9999, in UTC). */
const END = Date.UTC(10000, 0, 1)

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/**
 * Milliseconds since the epoch of `value`, or a reason it is not an ISO 8601 date-time like
 * `2030-01-01T00:00:00Z` or `2030-01-01T09:30:00.5+02:00` within the years 0001-9999.
 */
export function parseDateTime(value: string): number | { invalid: string } {
  const m = PATTERN.exec(value)
  if (!m) return { invalid: 'must be an ISO 8601 date-time with a timezone, like 2030-01-01T00:00:00Z' }
  const [year, month, day, hour, minute, second = 0] = m.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part))) as number[]
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0
  if (year! < 1) return { invalid: 'year must be 0001-9999' }
  if (month! < 1 || month! > 12) return { invalid: `month ${m[2]} must be 01-12` }
  if (day! < 1 || day! > daysIn(year!, month!)) return { invalid: `day ${m[3]} does not exist in ${m[1]}-${m[2]}` }
  if (hour! > 23 || minute! > 59 || second! > 59) return { invalid: `time ${m[4]}:${m[5]}${m[6] ? `:${m[6]}` : ''} must be 00:00:00-23:59:59` }
  let offset = 0
  if (!m[8]) {
    const hours = Number(m[10])
    const minutes = Number(m[11])
    if (hours > 23 || minutes > 59) return { invalid: `timezone offset ${m[9]}${m[10]}:${m[11]} must be -23:59 to +23:59` }
    offset = (m[9] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000
  }
  // Date.UTC treats years 0-99 as 1900-1999; setUTCFullYear does not.
  const utc = new Date(Date.UTC(2000, month! - 1, day!, hour!, minute!, second!, fraction))
  utc.setUTCFullYear(year!)
  const ms = utc.getTime() - offset
  if (ms >= END) return { invalid: 'must be before the year 10000 (UTC)' }
  return ms
}
