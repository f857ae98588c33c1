// Names the API puts into SQL text (LISTEN channels, COPY/INSERT tables and columns): checked
// against one plain-identifier rule and always double-quoted, so none can carry SQL and the
// case given is the case used.
import { DatabaseInputError } from './errors.ts'

/** Letters, digits, `_`; not starting with a digit; PostgreSQL keeps 63 bytes of a name. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function quoteIdentifier(name: unknown, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new DatabaseInputError(`${what} ${JSON.stringify(name)} must be 1-63 letters, digits or _, not starting with a digit`)
  }
  return `"${name}"`
}

/** `name` or `schema.name`, each part quoted. */
export function quoteTable(table: unknown): string {
  if (typeof table !== 'string') throw new DatabaseInputError(`table ${JSON.stringify(table)} must be a string like events or analytics.events`)
  const parts = table.split('.')
  if (parts.length > 2) throw new DatabaseInputError(`table ${JSON.stringify(table)} must be name or schema.name`)
  return parts.map((part) => quoteIdentifier(part, `table ${JSON.stringify(table)}: part`)).join('.')
}

/** Checks a channel name; PostgreSQL channel names are identifiers. */
export function checkChannel(channel: unknown): string {
  quoteIdentifier(channel, 'channel')
  return channel as string
}
