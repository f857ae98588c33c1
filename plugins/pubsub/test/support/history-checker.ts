// The analysis of a workload history in the spirit of Jepsen's Kafka workload: given every
// acknowledged write (producer, sequence, partition, offset, value) and what each consumer
// did (assigned a partition from an offset, read a record, committed, lost or gave back a
// partition), it reports per partition:
//   lost        acknowledged records no consumer ever read
//   reordered   a read that went back (or skipped ahead) within one consumer's hold of a partition
//   skipped     records jumped over within a hold, or a hold that started past everything read
//   duplicatedBeyondAtLeastOnce  records read again although the group had committed past
//               them before the re-read started (a redelivery of records after the last commit
//               is the at-least-once case and is counted as `redelivered`, not as an error)
//   inconsistent  a read whose value differs from what the producer was acknowledged for that offset
// and, per producer and partition, acknowledged offsets that do not grow with the send order.
// Events of one consumer are in the order it wrote them; across consumers only their
// timestamps (one machine, one clock) order a commit before another consumer's hold.

export interface Write {
  producer: string
  /** The producer's send order. */
  seq: number
  partition: number
  offset: number
  value: string
}

export type ConsumerEvent =
  | { consumer: number; e: 'assigned'; partition: number; offset: number; t: number }
  | { consumer: number; e: 'read'; partition: number; offset: number; value: string; t: number }
  | { consumer: number; e: 'commit'; offsets: Array<{ partition: number; offset: number }>; t: number }
  | { consumer: number; e: 'revoked' | 'lost'; partition: number; t: number }

export interface PartitionReport {
  partition: number
  acknowledged: number
  read: number
  lost: number
  redelivered: number
  duplicatedBeyondAtLeastOnce: number
  reordered: number
  skipped: number
  inconsistent: number
  /** Reads while the consumer held no assignment of the partition. */
  unassignedReads: number
  /** Offsets of the first lost records (for the report). */
  lostOffsets: number[]
}

export interface CheckReport {
  ok: boolean
  partitions: PartitionReport[]
  totals: Omit<PartitionReport, 'partition' | 'lostOffsets'>
  /** Pairs of a producer's writes to one partition acknowledged in an order other than sent. */
  producerReordered: number
}

interface Hold {
  consumer: number
  start: number
  t: number
  expected: number
}

export function checkHistory(input: { writes: readonly Write[]; events: readonly ConsumerEvent[] }): CheckReport {
  const partitions = new Set<number>()
  for (const w of input.writes) partitions.add(w.partition)
  for (const e of input.events) if ('partition' in e) partitions.add(e.partition)
  const reports = new Map<number, PartitionReport>()
  const report = (partition: number): PartitionReport => {
    let r = reports.get(partition)
    if (!r)
      reports.set(
        partition,
        (r = {
          partition,
          acknowledged: 0,
          read: 0,
          lost: 0,
          redelivered: 0,
          duplicatedBeyondAtLeastOnce: 0,
          reordered: 0,
          skipped: 0,
          inconsistent: 0,
          unassignedReads: 0,
          lostOffsets: [],
        }),
      )
    return r
  }
  for (const p of partitions) report(p)

  const acked = new Map<string, string>()
  for (const w of input.writes) {
    const key = `${w.partition}/${w.offset}`
    const before = acked.get(key)
    if (before !== undefined && before !== w.value) report(w.partition).inconsistent++
    if (before === undefined) report(w.partition).acknowledged++
    acked.set(key, w.value)
  }

  // Commits by time, per partition: what the group had committed before a hold started.
  const commits = new Map<number, Array<{ t: number; offset: number }>>()
  for (const e of input.events) {
    if (e.e !== 'commit') continue
    for (const o of e.offsets) commits.set(o.partition, [...(commits.get(o.partition) ?? []), { t: e.t, offset: o.offset }])
  }
  const committedBefore = (partition: number, t: number) => {
    let max = -1
    for (const c of commits.get(partition) ?? []) if (c.t < t && c.offset > max) max = c.offset
    return max
  }

  const holds = new Map<string, Hold>()
  const readCount = new Map<string, number>()
  /** The highest offset read by anyone so far, per partition, by hold start time. */
  const holdStarts: Array<{ partition: number; t: number; start: number; consumer: number }> = []
  for (const e of input.events) {
    if (e.e === 'commit') continue
    const key = `${e.consumer}/${e.partition}`
    const r = report(e.partition)
    if (e.e === 'assigned') {
      holds.set(key, { consumer: e.consumer, start: e.offset, t: e.t, expected: e.offset })
      holdStarts.push({ partition: e.partition, t: e.t, start: e.offset, consumer: e.consumer })
      continue
    }
    if (e.e !== 'read') {
      // revoked or lost: the hold ends.
      holds.delete(key)
      continue
    }
    const hold = holds.get(key)
    const recordKey = `${e.partition}/${e.offset}`
    const times = (readCount.get(recordKey) ?? 0) + 1
    readCount.set(recordKey, times)
    if (times === 1) r.read++
    const value = acked.get(recordKey)
    if (value !== undefined && value !== e.value) r.inconsistent++
    if (!hold) {
      r.unassignedReads++
      if (times > 1) r.redelivered++
      continue
    }
    if (e.offset === hold.expected) hold.expected++
    else if (e.offset === hold.expected - 1) {
      // The same record again at once: a handler retried in place; order still holds.
    } else if (e.offset < hold.expected) r.reordered++
    else {
      r.reordered++
      r.skipped += e.offset - hold.expected
      hold.expected = e.offset + 1
    }
    if (times > 1) {
      if (e.offset < committedBefore(e.partition, hold.t)) r.duplicatedBeyondAtLeastOnce++
      else r.redelivered++
    }
  }

  // A hold that started past every record read before it jumped over records.
  for (const start of holdStarts) {
    const committed = committedBefore(start.partition, start.t)
    if (committed >= 0 && start.start > committed) {
      // Starting above the group's commit is only right if those records were read (and committed later by their reader).
      let missing = 0
      for (let o = committed; o < start.start; o++) if (!readCount.has(`${start.partition}/${o}`)) missing++
      report(start.partition).skipped += missing
    }
  }

  for (const [key] of acked) {
    const [partition, offset] = key.split('/').map(Number) as [number, number]
    if (!readCount.has(key)) {
      const r = report(partition)
      r.lost++
      if (r.lostOffsets.length < 10) r.lostOffsets.push(offset)
    }
  }

  let producerReordered = 0
  const byProducer = new Map<string, Write[]>()
  for (const w of input.writes) byProducer.set(`${w.producer}/${w.partition}`, [...(byProducer.get(`${w.producer}/${w.partition}`) ?? []), w])
  for (const writes of byProducer.values()) {
    writes.sort((a, b) => a.seq - b.seq)
    for (let i = 1; i < writes.length; i++) if (writes[i]!.offset <= writes[i - 1]!.offset) producerReordered++
  }

  const list = [...reports.values()].sort((a, b) => a.partition - b.partition)
  const totals = { acknowledged: 0, read: 0, lost: 0, redelivered: 0, duplicatedBeyondAtLeastOnce: 0, reordered: 0, skipped: 0, inconsistent: 0, unassignedReads: 0 }
  for (const r of list) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r[k]
  const ok = totals.lost === 0 && totals.reordered === 0 && totals.skipped === 0 && totals.duplicatedBeyondAtLeastOnce === 0 && totals.inconsistent === 0 && producerReordered === 0
  return { ok, partitions: list, totals, producerReordered }
}

/** One line per partition, for a test's output. */
export function formatReport(report: CheckReport): string {
  const rows = report.partitions.map(
    (r) =>
      `  p${r.partition}: acknowledged ${r.acknowledged}, read ${r.read}, lost ${r.lost}${r.lost ? ` (${r.lostOffsets.join(', ')}...)` : ''}, redelivered ${r.redelivered}, ` +
      `duplicated beyond at-least-once ${r.duplicatedBeyondAtLeastOnce}, reordered ${r.reordered}, skipped ${r.skipped}, inconsistent ${r.inconsistent}`,
  )
  return [`${report.ok ? 'OK' : 'FAILED'}: producer order violations ${report.producerReordered}`, ...rows].join('\n')
}
