// Validating a message body as an order, as strictly as configured; every failing field is named.
import { z } from 'zod'
import { arithmeticProblems } from './arithmetic.ts'
import { fastOrder } from './fast-order.ts'
import type { Problem } from './problems.ts'
import { looseFormatSchema, strictSchema, type Order } from './schema.ts'

/**
 * - `full`: required fields, types, formats (email, phone, dates, currency, locale) and the arithmetic
 * - `formats`: as full, without the arithmetic
 * - `types`: required fields and types only
 * Unknown fields are refused at every level: an order is stored and answered field for field.
 */
export const STRICTNESS = ['full', 'formats', 'types'] as const
export type Strictness = (typeof STRICTNESS)[number]

export type Validated = { ok: true; order: Order } | { ok: false; problems: Problem[] }

export function validateOrder(input: unknown, strictness: Strictness = 'full'): Validated {
  // A valid order (nearly every one) is decided without zod; anything else gets zod's full report.
  const fast = fastOrder(input, strictness !== 'types')
  if (fast && (strictness !== 'full' || arithmeticProblems(fast).length === 0)) return { ok: true, order: fast }
  const result = (strictness === 'types' ? looseFormatSchema : strictSchema).safeParse(input)
  const problems = result.success ? [] : result.error.issues.map(toProblem)
  if (strictness === 'full') problems.push(...arithmeticProblems(input))
  if (problems.length > 0 || !result.success) return { ok: false, problems }
  return { ok: true, order: result.data }
}

/** A body that is not JSON at all is one problem for the message as a whole. */
export function parseOrder(body: Buffer | string, strictness: Strictness = 'full'): Validated {
  let input: unknown
  try {
    input = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: `the body is not JSON: ${(error as Error).message}` }] }
  }
  return validateOrder(input, strictness)
}

function toProblem(issue: z.core.$ZodIssue): Problem {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` }
  return { path, message: issue.message }
}
