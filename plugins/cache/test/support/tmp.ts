// Temporary folders for a test file, removed when it ends.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made: string[] = []
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

export function tempDir(label = 'cache'): string {
  const dir = mkdtempSync(join(tmpdir(), `armature-${label}-`))
  made.push(dir)
  return dir
}
