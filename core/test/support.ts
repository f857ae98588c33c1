// Writes throwaway plugins into a temp drop-in folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function pluginsFolder(): string {
  return mkdtempSync(join(tmpdir(), 'armature-plugins-'))
}

/** Writes `<dir>/<name>/index.ts` with the given source and returns the folder. */
export function writePlugin(dir: string, name: string, source: string): string {
  const folder = join(dir, name)
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'index.ts'), source)
  return folder
}

/** A plugin answering `text` at GET /<name> (or `base`). */
export function textPlugin(name: string, text: string, extra = ''): string {
  return `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: '${name}',
  version: '1.0.0',
  setup(ctx) {
    ctx.http.route(new Hono().get('/', (c) => c.text(${JSON.stringify(text)} + ' gen ' + ctx.generation)))
    ${extra}
  },
})
`
}
