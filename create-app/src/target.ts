// The folder a new service is written into must be new or empty, unless forced, so a typo
// never mixes generated files into someone's work; and it must lie outside the Armature
// checkout, whose node_modules would otherwise stand in for whatever the app lacks.
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, isAbsolute } from 'node:path'
import { CreateAppError, TargetInsideCheckoutError, TargetNotEmptyError } from './errors.ts'
import { REPO_DIR } from './paths.ts'

// A folder holding only version-control metadata counts as empty: `git init` first is common.
const IGNORED_ENTRIES = new Set(['.git', '.DS_Store'])

export function prepareTarget(dir: string, force: boolean): void {
  refuseInsideCheckout(dir)
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new CreateAppError(`${dir} exists and is a file, not a folder`)
    const entries = readdirSync(dir).filter((e) => !IGNORED_ENTRIES.has(e))
    if (entries.length && !force) throw new TargetNotEmptyError(dir)
  }
  mkdirSync(dir, { recursive: true })
}

/** Throws when `dir` (absolute, existing or not) is the checkout or inside it, symlinks resolved. */
export function refuseInsideCheckout(dir: string, checkout: string = REPO_DIR): void {
  const root = realpathSync(checkout)
  const rel = relative(root, realPathOf(dir))
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new TargetInsideCheckoutError(dir, root, join(dirname(root), basename(dir)))
  }
}

/** The real path of a folder that may not exist yet: its nearest existing ancestor's, resolved. */
function realPathOf(dir: string): string {
  let existing = dir
  const rest: string[] = []
  while (!existsSync(existing)) {
    rest.unshift(basename(existing))
    existing = dirname(existing)
  }
  return join(realpathSync(existing), ...rest)
}
