// Named errors of the orders API; each carries the status (and field) the kernel's plugin mount answers with.
import { ORDER_UID } from './schema.ts'

export class InvalidUidError extends Error {
  override name = 'InvalidUidError'
  readonly status = 400
  constructor(
    readonly field: string,
    uid: unknown,
  ) {
    super(
      uid === undefined || uid === ''
        ? `${field} is required: in the query (?${field}=...) or as a JSON body {"${field}": "..."}`
        : `${field} ${JSON.stringify(String(uid).slice(0, 80))} is not an order uid (${ORDER_UID.source.slice(1, -1)})`,
    )
  }
}

export class OrderNotFoundError extends Error {
  override name = 'OrderNotFoundError'
  readonly status = 404
  constructor(readonly uid: string) {
    super(`no order ${JSON.stringify(uid)}`)
  }
}

export class InvalidLimitError extends Error {
  override name = 'InvalidLimitError'
  readonly status = 400
  readonly field = 'limit'
  constructor(limit: string, max: number) {
    super(`limit ${JSON.stringify(limit.slice(0, 20))} must be an integer from 1 to ${max}`)
  }
}
