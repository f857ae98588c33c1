// PostgreSQL array literals built by hand for the batch's columns: the pg client's generic
// encoder inspects and escapes every element with two regular expressions and builds a string
// per element; these columns hold only strings and integers, so one join per column does.

const NEEDS_ESCAPE = /["\\]/
const ESCAPED = /["\\]/g

/** One column of strings as a text[] literal: every element quoted, so "NULL" and "" stay strings. */
export class TextArray {
  readonly #values: string[] = []

  push(value: string): void {
    this.#values.push(NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, '\\$&') : value)
  }

  toString(): string {
    return this.#values.length === 0 ? '{}' : `{"${this.#values.join('","')}"}`
  }
}

/** One column of integers as an int[] or bigint[] literal. */
export class IntArray {
  readonly #values: number[] = []

  push(value: number): void {
    if (!Number.isSafeInteger(value)) throw new TypeError(`an integer column got ${value}`)
    this.#values.push(value)
  }

  toString(): string {
    return `{${this.#values.join(',')}}`
  }
}
