// copyFrom's backend-neutral part: the checked target, rows converted exactly as query
// parameters are (pg's prepareValue), and the two encodings: COPY text for PostgreSQL, multi-row
// INSERT statements with a bounded number of parameters for PGlite.
import { Buffer } from 'node:buffer'
import utils from 'pg/lib/utils.js'
import { DatabaseInputError } from './errors.ts'
import { quoteIdentifier, quoteTable } from './identifiers.ts'

export interface CopyTarget {
  /** Quoted `"schema"."table"`. */
  table: string
  /** Quoted, comma-separated column list. */
  columns: string
  width: number
}

type Prepared = string | Buffer | null

export function copyTarget(table: string, columns: readonly string[]): CopyTarget {
  const quoted = quoteTable(table)
  if (!Array.isArray(columns) || columns.length === 0) throw new DatabaseInputError(`copyFrom(${table}): columns must be a non-empty array of column names`)
  const seen = new Set<string>()
  for (const column of columns) {
    if (seen.has(column)) throw new DatabaseInputError(`copyFrom(${table}): column ${JSON.stringify(column)} appears twice`)
    seen.add(column)
  }
  return { table: quoted, columns: columns.map((c) => quoteIdentifier(c, `copyFrom(${table}): column`)).join(', '), width: columns.length }
}

/** Each row checked for its width and converted; an error names the row's index. */
function* prepared(target: CopyTarget, rows: Iterable<readonly unknown[]>): Generator<Prepared[]> {
  if (rows == null || typeof (rows as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new DatabaseInputError(`copyFrom(${target.table}): rows must be an array (or another iterable) of arrays`)
  }
  let index = 0
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== target.width) {
      throw new DatabaseInputError(
        `copyFrom(${target.table}): row ${index} must be an array of ${target.width} values (one per column), got ${Array.isArray(row) ? `${row.length} values` : typeof row}`,
      )
    }
    yield row.map((value) => utils.prepareValue(value))
    index++
  }
}

// COPY text format: tab-separated, \N for NULL, backslash escapes for the separators.
const SPECIAL = /[\\\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

function copyField(value: Prepared): string {
  if (value === null) return '\\N'
  // bytea's hex form, its leading backslash escaped for COPY.
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`
  return value.replace(SPECIAL, (c) => ESCAPES[c]!)
}

/** COPY text in chunks of about `chunkBytes`, for a stream's writes. */
export function* copyText(target: CopyTarget, rows: Iterable<readonly unknown[]>, chunkBytes = 64 * 1024): Generator<string> {
  let chunk = ''
  for (const row of prepared(target, rows)) {
    chunk += row.map(copyField).join('\t') + '\n'
    if (chunk.length >= chunkBytes) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}

export interface InsertBatch {
  sql: string
  params: Prepared[]
}

/** INSERT statements of as many rows as fit in `maxParams` parameters (at least one row each). */
export function* insertBatches(target: CopyTarget, rows: Iterable<readonly unknown[]>, maxParams: number): Generator<InsertBatch> {
  const perStatement = Math.max(1, Math.floor(maxParams / target.width))
  let batch: Prepared[][] = []
  const statement = (): InsertBatch => {
    const tuples = batch.map((_, r) => `(${batch[r]!.map((__, c) => `$${r * target.width + c + 1}`).join(', ')})`)
    return { sql: `INSERT INTO ${target.table} (${target.columns}) VALUES ${tuples.join(', ')}`, params: batch.flat() }
  }
  for (const row of prepared(target, rows)) {
    batch.push(row)
    if (batch.length === perStatement) {
      yield statement()
      batch = []
    }
  }
  if (batch.length) yield statement()
}
