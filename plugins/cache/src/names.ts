// Collection names and ids travel in URL paths, Redis keys and file names of dumps, so
// they are restricted to a safe alphabet. A name must start with a letter or digit:
// that keeps `/_stats` and `/_dump` free for the plugin's own routes.
import { InvalidNameError } from './errors.ts'

export const COLLECTION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/

export function checkCollection(name: string): string {
  if (!COLLECTION_PATTERN.test(name)) {
    throw new InvalidNameError(`invalid collection name ${JSON.stringify(name)}: expected 1-64 characters [A-Za-z0-9_.-], starting with a letter or digit`)
  }
  return name
}

export function checkId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new InvalidNameError(`invalid id ${JSON.stringify(id)}: expected 1-200 characters [A-Za-z0-9_.:@-], starting with a letter or digit`)
  }
  return id
}
