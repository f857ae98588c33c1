// The ports a registered server may listen on.
import { ProxyOptionError } from './errors.ts'

export interface PortRange {
  min: number
  max: number
}

/** Parses `1024-65535` (or a single port); 0 is always accepted and means "any free port". */
export function parsePortRange(text: string): PortRange {
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text)
  const min = Number(match?.[1])
  const max = Number(match?.[2] ?? match?.[1])
  if (!match || min < 1 || max > 65535 || min > max) {
    throw new ProxyOptionError('portRange', text, 'a range like 1024-65535 within 1-65535, low end first')
  }
  return { min, max }
}

export function portAllowed(port: number, range: PortRange): boolean {
  return port === 0 || (port >= range.min && port <= range.max)
}
