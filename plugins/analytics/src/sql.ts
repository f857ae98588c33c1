// The part of the db plugin's API this package uses, structurally, so src/ imports nothing of it.

export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

/** One statement at a time: each is its own transaction (every write here is a single statement). */
export interface SqlDatabase {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>
}

/** The interval of `param` milliseconds (a placeholder such as `$2`), as SQL. */
export const msInterval = (param: string) => `make_interval(secs => ${param}::float8 / 1000)`

/** `($1, $2), ($3, $4), ...` for `rows` rows of `casts.length` parameters, each cast (`::bigint`) so VALUES has types. */
export function valuesList(rows: number, casts: readonly string[], offset = 0): string {
  const width = casts.length
  const tuples: string[] = []
  for (let r = 0; r < rows; r++) {
    const cells: string[] = []
    for (let c = 0; c < width; c++) cells.push(`$${offset + r * width + c + 1}${casts[c]}`)
    tuples.push(`(${cells.join(', ')})`)
  }
  return tuples.join(', ')
}

/** PostgreSQL's limit of parameters in one statement. */
export const MAX_PARAMS = 65535
