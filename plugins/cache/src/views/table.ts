// Plain-text views for the terminal: aligned columns, values shortened to fit a line.
import type { CollectionStats } from '../store.ts'
import type { DocumentView, StatsView } from './json.ts'

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n'
}

export function shorten(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

export function collectionsTable(collections: CollectionStats[]): string {
  if (!collections.length) return '(no collections)\n'
  return table(
    ['COLLECTION', 'DOCUMENTS'],
    collections.map((c) => [c.name, String(c.documents)]),
  )
}

export function documentsTable(collection: string, items: DocumentView[], nextCursor: string | null): string {
  if (!items.length) return `(no documents in ${collection})\n`
  const body = table(
    ['ID', 'VERSION', 'ETAG', 'UPDATED', 'EXPIRES', 'VALUE'],
    items.map((d) => [d.id, String(d.version), d.etag, d.updatedAt, d.expiresAt ?? '-', shorten(JSON.stringify(d.value))]),
  )
  return nextCursor ? `${body}(more: --cursor ${nextCursor})\n` : body
}

export function documentDetail(doc: DocumentView): string {
  const fields = table(
    ['FIELD', 'VALUE'],
    [
      ['collection', doc.collection],
      ['id', doc.id],
      ['version', String(doc.version)],
      ['etag', doc.etag],
      ['created', doc.createdAt],
      ['updated', doc.updatedAt],
      ['expires', doc.expiresAt ?? '-'],
    ],
  )
  return `${fields}\n${JSON.stringify(doc.value, null, 2)}\n`
}

/** Offline stats carry only what a file can tell. */
export type StatsLike = Pick<StatsView, 'seq' | 'documents' | 'collections'> & Partial<StatsView> & { source?: string }

export function statsTable(stats: StatsLike): string {
  const rows: string[][] = [
    ['seq', String(stats.seq)],
    ['documents', String(stats.documents)],
    ['collections', String(stats.collections.length)],
  ]
  if (stats.source) rows.push(['source', stats.source])
  if (stats.fsync) rows.push(['fsync', stats.fsync])
  if (stats.file) rows.push(['file segment', stats.file.segment], ['file checkpoint seq', String(stats.file.checkpointSeq)])
  if (stats.redis) {
    rows.push(['redis', stats.redis.configured ? stats.redis.status : 'not configured'])
    if (stats.redis.configured) {
      rows.push(['redis dump seq', stats.redis.dumpSeq === undefined ? '-' : String(stats.redis.dumpSeq)], ['redis last dump', stats.redis.lastDumpAt ?? '-'])
      if (stats.redis.lastError) rows.push(['redis last error', stats.redis.lastError])
    }
  }
  if (stats.restore) rows.push(['restored from', `${stats.restore.source}: ${stats.restore.reason}`])
  return `${table(['STAT', 'VALUE'], rows)}\n${collectionsTable(stats.collections)}`
}
