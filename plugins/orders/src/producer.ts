// The producer's loop: valid, duplicate and invalid orders in the asked-for mix, at a rate,
// published in batches that each resolve after the backend's confirms.
import type { Faker } from '@faker-js/faker'
import { fakeInvalidOrder, fakeOrder } from './fake-order.ts'
import type { Order } from './schema.ts'

export type Kind = 'valid' | 'duplicate' | 'invalid'

export interface Produced {
  kind: Kind
  uid: string | undefined
  body: unknown
}

export interface ProduceOptions {
  count: number
  /** Orders per second; 0 as fast as confirms come back. */
  rate: number
  invalidRatio: number
  duplicateRatio: number
  faker: Faker
  /** Publishes a batch; resolves once every message in it is confirmed. */
  publishBatch: (bodies: unknown[]) => Promise<void>
  /** After each confirmed batch. */
  onConfirmed?: (batch: Produced[], totals: ProduceSummary) => void
  signal?: AbortSignal
}

export interface ProduceSummary {
  published: number
  valid: number
  duplicate: number
  invalid: number
  elapsedMs: number
}

export async function produce(options: ProduceOptions): Promise<ProduceSummary> {
  const { count, rate, faker } = options
  const totals: ProduceSummary = { published: 0, valid: 0, duplicate: 0, invalid: 0, elapsedMs: 0 }
  const sent: Order[] = []
  const started = Date.now()
  // About 20 batches a second at a set rate; large batches when unthrottled.
  const batchSize = rate > 0 ? Math.max(1, Math.min(500, Math.round(rate / 20))) : 200
  while (totals.published < count && !options.signal?.aborted) {
    if (rate > 0) {
      const due = started + (totals.published / rate) * 1000
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
    }
    const batch: Produced[] = []
    for (let i = 0; i < batchSize && totals.published + batch.length < count; i++) batch.push(next(faker, options, sent))
    await options.publishBatch(batch.map((p) => p.body))
    for (const p of batch) totals[p.kind]++
    totals.published += batch.length
    totals.elapsedMs = Date.now() - started
    options.onConfirmed?.(batch, totals)
  }
  totals.elapsedMs = Date.now() - started
  return totals
}

function next(faker: Faker, options: ProduceOptions, sent: Order[]): Produced {
  const roll = faker.number.float({ min: 0, max: 1 })
  if (roll < options.invalidRatio) {
    const body = fakeInvalidOrder(faker)
    const uid = (body as { order_uid?: unknown }).order_uid
    return { kind: 'invalid', uid: typeof uid === 'string' ? uid : undefined, body }
  }
  if (roll < options.invalidRatio + options.duplicateRatio && sent.length > 0) {
    const again = sent[faker.number.int({ min: 0, max: sent.length - 1 })]!
    return { kind: 'duplicate', uid: again.order_uid, body: again }
  }
  const order = fakeOrder(faker)
  // A bounded pool to pick duplicates from: the memory of a long run stays flat.
  if (sent.length < 10_000) sent.push(order)
  else sent[faker.number.int({ min: 0, max: sent.length - 1 })] = order
  return { kind: 'valid', uid: order.order_uid, body: order }
}
