// The model's arithmetic (../shared/data/README.md): sale is a percent, rounded down.
import type { Item } from './schema.ts'
import type { Problem } from './problems.ts'

/** An item's total: floor(price x (100 - sale) / 100), in integers so 453 x 70 / 100 = 317.1 gives 317. */
export function itemTotal(item: Pick<Item, 'price' | 'sale'>): number {
  return Math.floor((item.price * (100 - item.sale)) / 100)
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

/**
 * Every place the order's numbers disagree with each other; empty when they add up. It reads
 * the input as it came, so an order with other faults gets its arithmetic checked too; a
 * relation whose terms are not all numbers is left to the schema's report.
 */
export function arithmeticProblems(input: unknown): Problem[] {
  const order = (input ?? {}) as { items?: unknown; payment?: Record<string, unknown> }
  const problems: Problem[] = []
  const items = Array.isArray(order.items) ? (order.items as Array<Record<string, unknown> | null>) : []
  let goods: number | undefined = 0
  items.forEach((item, index) => {
    const { price, sale, total_price } = item ?? {}
    if (isNumber(price) && isNumber(sale) && isNumber(total_price)) {
      const expected = itemTotal({ price, sale })
      if (total_price !== expected) problems.push({ path: `items.${index}.total_price`, message: `must be floor(price x (100 - sale) / 100) = ${expected}, got ${total_price}` })
    }
    goods = isNumber(total_price) && goods !== undefined ? goods + total_price : undefined
  })
  const payment = order.payment ?? {}
  const { goods_total, delivery_cost, custom_fee, amount } = payment
  if (isNumber(goods_total) && goods !== undefined && items.length > 0 && goods_total !== goods)
    problems.push({ path: 'payment.goods_total', message: `must be the sum of the items' total_price = ${goods}, got ${goods_total}` })
  if (isNumber(goods_total) && isNumber(delivery_cost) && isNumber(custom_fee) && isNumber(amount)) {
    const expected = goods_total + delivery_cost + custom_fee
    if (amount !== expected) problems.push({ path: 'payment.amount', message: `must be goods_total + delivery_cost + custom_fee = ${expected}, got ${amount}` })
  }
  return problems
}
