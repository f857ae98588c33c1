// Merges plugin dependency maps into the app's. Two plugins may ask for different ranges
// of one package; the range with the higher lower bound wins, which still satisfies a
// caret range on the same major version, and the choice is reported rather than hidden.
import type { DependencyMap } from './catalogue.ts'

export interface DependencyConflict {
  name: string
  kept: string
  dropped: string
}

export function mergeDependencies(into: DependencyMap, from: DependencyMap, conflicts: DependencyConflict[] = []): DependencyMap {
  const merged: DependencyMap = { ...into }
  for (const [name, range] of Object.entries(from)) {
    const current = merged[name]
    if (current === undefined || current === range) {
      merged[name] = range
      continue
    }
    const keepNew = compareLowerBounds(range, current) > 0
    conflicts.push({ name, kept: keepNew ? range : current, dropped: keepNew ? current : range })
    if (keepNew) merged[name] = range
  }
  return sortKeys(merged)
}

export function sortKeys(map: DependencyMap): DependencyMap {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)))
}

/** Compares the first x.y.z found in two ranges; ranges without one compare equal. */
function compareLowerBounds(a: string, b: string): number {
  const va = lowerBound(a)
  const vb = lowerBound(b)
  if (!va || !vb) return 0
  for (let i = 0; i < 3; i++) if (va[i] !== vb[i]) return va[i]! - vb[i]!
  return 0
}

function lowerBound(range: string): number[] | undefined {
  const match = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range)
  return match ? [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)] : undefined
}
