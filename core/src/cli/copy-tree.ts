// Copies a folder tree: skips build and install output, renames files npm would mangle
// (npm pack drops `.gitignore`, so templates keep it as `_gitignore`), and fills
// `{{placeholders}}` in template text files. Used by `armature new plugin` and the app generator.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { extname, join } from 'node:path'

export interface CopyOptions {
  /** Entry names never copied, at any depth. */
  skip?: ReadonlySet<string>
  /** Entry name -> name in the copy. */
  rename?: Readonly<Record<string, string>>
  /** `{{key}}` -> value, applied to text files. */
  placeholders?: Readonly<Record<string, string>>
}

export const ALWAYS_SKIPPED: ReadonlySet<string> = new Set(['node_modules', '.armature', 'logs', '.DS_Store'])

const TEXT_FILES = new Set(['.ts', '.mts', '.js', '.mjs', '.json', '.md', '.proto', '.yaml', '.yml', ''])

/** Copies `from` into `to` (created as needed) and returns the number of files written. */
export function copyTree(from: string, to: string, options: CopyOptions = {}): number {
  const skip = options.skip ?? ALWAYS_SKIPPED
  mkdirSync(to, { recursive: true })
  let files = 0
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue
    const source = join(from, entry.name)
    const target = join(to, options.rename?.[entry.name] ?? entry.name)
    if (entry.isDirectory()) {
      files += copyTree(source, target, options)
    } else if (entry.isFile()) {
      if (options.placeholders && TEXT_FILES.has(extname(entry.name))) {
        writeFileSync(target, fillPlaceholders(readFileSync(source, 'utf8'), options.placeholders))
      } else {
        copyFileSync(source, target)
      }
      files++
    }
  }
  return files
}

export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (match, key: string) => values[key] ?? match)
}
