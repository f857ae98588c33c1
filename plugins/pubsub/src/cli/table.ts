// A plain-text table: a header, a rule, the rows, columns padded to their widest cell.
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, headers.map((h) => '-'.repeat(h.length)), ...rows.map((r) => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}
