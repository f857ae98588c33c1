// Paths in messages: relative to the cwd when inside it, absolute otherwise (a chain of ../ reads badly).
import { isAbsolute, relative } from 'node:path'

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel
}
