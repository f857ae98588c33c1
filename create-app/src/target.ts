// The folder a new service or plugin is written into must be new or empty, unless forced,
// so a typo never mixes generated files into someone's work.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { CreateAppError, TargetNotEmptyError } from './errors.ts'

// A folder holding only version-control metadata counts as empty: `git init` first is common.
const IGNORED_ENTRIES = new Set(['.git', '.DS_Store'])

export function prepareTarget(dir: string, force: boolean): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new CreateAppError(`${dir} exists and is a file, not a folder`)
    const entries = readdirSync(dir).filter((e) => !IGNORED_ENTRIES.has(e))
    if (entries.length && !force) throw new TargetNotEmptyError(dir)
  }
  mkdirSync(dir, { recursive: true })
}
