// Push delivery of one partition to one group: the cursor of records never delivered, the
// records delivered and not yet acknowledged (each with its member and deadline), the ones
// waiting for redelivery, and the committed offset, which only moves over a contiguous run of
// acknowledged records. So push and pull share one committed offset per group and partition.
import type { PartitionLog } from './partition-log.ts'
import type { StoredRecord } from './record.ts'

export interface Delivery {
  readonly topic: string
  readonly partition: number
  readonly record: StoredRecord
  /** 1 on the first delivery, +1 on each redelivery. */
  readonly deliveries: number
}

interface Pending {
  member: string
  deliveries: number
  /** When ackWaitMs runs out (Infinity: never). */
  deadline: number
}

interface Waiting {
  offset: number
  due: number
  deliveries: number
}

/** What happens to a record given back: it waits for another delivery, or it has had maxDeliveries. */
export type Giveback = { action: 'redeliver' } | { action: 'exhausted'; record: StoredRecord | undefined; deliveries: number }

export class PartitionDispatcher {
  /** The next offset never delivered. */
  #cursor: number
  #committed: number
  readonly #pending = new Map<number, Pending>()
  /** Records to deliver again, in the order they became due. */
  #waiting: Waiting[] = []
  /** Acknowledged above the committed offset. */
  readonly #acked = new Set<number>()

  constructor(
    readonly log: PartitionLog,
    start: number,
  ) {
    this.#cursor = this.#committed = start
  }

  get committed(): number {
    return this.#committed
  }
  get pending(): number {
    return this.#pending.size
  }
  get waiting(): number {
    return this.#waiting.length
  }

  pendingOf(member: string): number {
    let n = 0
    for (const p of this.#pending.values()) if (p.member === member) n++
    return n
  }

  /** Up to `max` deliveries for `member`: due redeliveries first, then new records. */
  take(member: string, max: number, now: number, ackWaitMs: number): Delivery[] {
    const out: Delivery[] = []
    const deadline = ackWaitMs > 0 ? now + ackWaitMs : Infinity
    const start = this.log.startOffset
    while (out.length < max && this.#waiting.length && this.#waiting[0]!.due <= now) {
      const next = this.#waiting.shift()!
      if (next.offset < start) {
        this.#ack(next.offset)
        continue
      }
      const [record] = this.log.store.read(next.offset, 1, Infinity)
      if (!record) continue
      const deliveries = next.deliveries + 1
      this.#pending.set(next.offset, { member, deliveries, deadline })
      out.push({ topic: this.log.topic, partition: this.log.partition, record, deliveries })
    }
    if (this.#cursor < start) this.#skipTo(start)
    if (out.length < max && this.#cursor < this.log.endOffset) {
      for (const record of this.log.store.read(this.#cursor, max - out.length, Infinity)) {
        this.#pending.set(record.offset, { member, deliveries: 1, deadline })
        out.push({ topic: this.log.topic, partition: this.log.partition, record, deliveries: 1 })
        this.#cursor = record.offset + 1
      }
    }
    return out
  }

  /** True when the member held it (a late ack of a record already given back is ignored). */
  ack(member: string, offset: number): boolean {
    const pending = this.#pending.get(offset)
    if (!pending || pending.member !== member) return false
    this.#pending.delete(offset)
    this.#ack(offset)
    return true
  }

  /** A member gives a record back (nak, or ackWait ran out): it waits `delayMs`, unless it has had maxDeliveries. */
  giveBack(member: string, offset: number, delayMs: number, now: number, maxDeliveries: number): Giveback | undefined {
    const pending = this.#pending.get(offset)
    if (!pending || pending.member !== member) return undefined
    this.#pending.delete(offset)
    if (maxDeliveries > 0 && pending.deliveries >= maxDeliveries) {
      const [record] = offset >= this.log.startOffset ? this.log.store.read(offset, 1, Infinity) : []
      this.#ack(offset)
      return { action: 'exhausted', record, deliveries: pending.deliveries }
    }
    this.#wait({ offset, due: now + delayMs, deliveries: pending.deliveries })
    return { action: 'redeliver' }
  }

  /** A member left or died: what it held is delivered again at once. */
  releaseMember(member: string): number {
    let n = 0
    for (const [offset, pending] of this.#pending) {
      if (pending.member !== member) continue
      this.#pending.delete(offset)
      this.#wait({ offset, due: 0, deliveries: pending.deliveries })
      n++
    }
    return n
  }

  /** Deliveries whose ackWait ran out, as [member, offset]. */
  expired(now: number): Array<[string, number]> {
    const out: Array<[string, number]> = []
    for (const [offset, pending] of this.#pending) if (pending.deadline <= now) out.push([pending.member, offset])
    return out
  }

  /** The earliest time a waiting record becomes due (Infinity: none waits). */
  nextDue(): number {
    return this.#waiting[0]?.due ?? Infinity
  }

  /** There is something to deliver now. */
  ready(now: number): boolean {
    return (this.#waiting.length > 0 && this.#waiting[0]!.due <= now) || this.#cursor < this.log.endOffset
  }

  /** Seek: delivery starts over at `offset`; what is pending is forgotten (late acks are ignored). */
  reset(offset: number): void {
    this.#pending.clear()
    this.#waiting = []
    this.#acked.clear()
    this.#cursor = this.#committed = offset
  }

  #wait(entry: Waiting): void {
    // Sorted by due time, then offset, so a partition's redeliveries keep their order.
    let i = this.#waiting.length
    while (i > 0 && (this.#waiting[i - 1]!.due > entry.due || (this.#waiting[i - 1]!.due === entry.due && this.#waiting[i - 1]!.offset > entry.offset))) i--
    this.#waiting.splice(i, 0, entry)
  }

  #ack(offset: number): void {
    if (offset < this.#committed) return
    // In order (the usual case) the committed offset moves on without the set.
    if (offset === this.#committed) this.#committed++
    else this.#acked.add(offset)
    while (this.#acked.size > 0 && this.#acked.delete(this.#committed)) this.#committed++
  }

  /** Retention dropped records never delivered: they count as handled. */
  #skipTo(start: number): void {
    for (let offset = this.#cursor; offset < start; offset++) this.#ack(offset)
    this.#cursor = start
    if (this.#committed < start) {
      for (const offset of this.#acked) if (offset < start) this.#acked.delete(offset)
      this.#committed = Math.max(this.#committed, Math.min(start, this.#lowestHeld()))
    }
  }

  #lowestHeld(): number {
    let low = Infinity
    for (const offset of this.#pending.keys()) low = Math.min(low, offset)
    for (const w of this.#waiting) low = Math.min(low, w.offset)
    return low
  }
}
