// The version printed by `armature --version`: the @armature/core package's own.
import { readFileSync } from 'node:fs'

export function coreVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}
