// `armature plugins`: the plugin table of a running kernel, read from /_armature/plugins.
import { errorMessage } from '../errors.ts'
import { parseFlags } from './parse-flags.ts'

export async function listPlugins(args: string[]): Promise<number> {
  const { values } = parseFlags('plugins', args, { url: { type: 'string' }, json: { type: 'boolean' } })
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`
  let body: { plugins: Array<Record<string, unknown>> }
  try {
    const response = await fetch(`${url}/_armature/plugins`)
    body = (await response.json()) as typeof body
  } catch (error) {
    process.stderr.write(`armature: no kernel answers at ${url}: ${errorMessage(error)}\n`)
    return 1
  }
  if (values.json) {
    console.log(JSON.stringify(body, null, 2))
    return 0
  }
  const rows = body.plugins.map((p) => [p.name, p.status, p.generation ?? '-', p.version ?? '-', (p.routes as string[]).join(' ') || '-', p.lastError ?? ''])
  printTable(
    ['NAME', 'STATUS', 'GEN', 'VERSION', 'ROUTES', 'LAST ERROR'],
    rows.map((r) => r.map(String)),
  )
  return 0
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  console.log([line(header), ...rows.map(line)].join('\n'))
}
