// A logger that remembers what it was told, for asserting on warnings.
import type { CacheLogger } from '../../src/logger.ts'

export interface Line {
  level: 'info' | 'warn' | 'error'
  obj: object
  msg: string
}

export function memoryLogger(): CacheLogger & { lines: Line[] } {
  const lines: Line[] = []
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  }
}
