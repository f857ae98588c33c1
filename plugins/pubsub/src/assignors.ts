// Partition assignors, run by the broker for a whole group (as KIP-848 moves assignment to the
// broker). range and round-robin are eager: a rebalance revokes every partition first.
// cooperative-sticky keeps each partition where it was unless balance needs it elsewhere, so
// only moved partitions are revoked and the rest keep flowing.

export const ASSIGNORS = ['range', 'round-robin', 'cooperative-sticky'] as const
export type AssignorName = (typeof ASSIGNORS)[number]

export interface TopicPartition {
  topic: string
  partition: number
}

export interface AssignorMember {
  id: string
  topics: readonly string[]
  /** What the member holds now (cooperative-sticky keeps it where it can). */
  owned: readonly TopicPartition[]
}

export type Assignment = Map<string, TopicPartition[]>

export const tpKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`

export function assign(name: AssignorName, members: readonly AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  if (name === 'range') return range(sorted, partitionsOf)
  if (name === 'round-robin') return roundRobin(sorted, partitionsOf)
  return cooperativeSticky(sorted, partitionsOf)
}

export function isEager(name: AssignorName): boolean {
  return name !== 'cooperative-sticky'
}

function topicsOf(members: readonly AssignorMember[]): string[] {
  return [...new Set(members.flatMap((m) => m.topics))].sort()
}

function emptyAssignment(members: readonly AssignorMember[]): Assignment {
  return new Map(members.map((m) => [m.id, []]))
}

/** Kafka's RangeAssignor: per topic, consecutive ranges; the first `P % M` members get one more. */
function range(members: readonly AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const out = emptyAssignment(members)
  for (const topic of topicsOf(members)) {
    const subscribed = members.filter((m) => m.topics.includes(topic))
    const partitions = partitionsOf(topic)
    const per = Math.floor(partitions / subscribed.length)
    const extra = partitions % subscribed.length
    let next = 0
    subscribed.forEach((member, i) => {
      const count = per + (i < extra ? 1 : 0)
      for (let p = next; p < next + count; p++) out.get(member.id)!.push({ topic, partition: p })
      next += count
    })
  }
  return out
}

/** Kafka's RoundRobinAssignor: every partition in (topic, partition) order, dealt in turn to the members subscribed. */
function roundRobin(members: readonly AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const out = emptyAssignment(members)
  let turn = 0
  for (const topic of topicsOf(members)) {
    for (let partition = 0; partition < partitionsOf(topic); partition++) {
      for (let tries = 0; tries < members.length; tries++) {
        const member = members[turn++ % members.length]!
        if (member.topics.includes(topic)) {
          out.get(member.id)!.push({ topic, partition })
          break
        }
      }
    }
  }
  return out
}

/** Balanced (counts differ by at most one among members of the same topics), moving as few partitions as possible. */
function cooperativeSticky(members: readonly AssignorMember[], partitionsOf: (topic: string) => number): Assignment {
  const out = emptyAssignment(members)
  const all: TopicPartition[] = []
  for (const topic of topicsOf(members)) for (let partition = 0; partition < partitionsOf(topic); partition++) all.push({ topic, partition })
  if (members.length === 0) return out
  const floor = Math.floor(all.length / members.length)
  let ceilSlots = all.length % members.length
  const taken = new Set<string>()
  const valid = (member: AssignorMember, tp: TopicPartition) => member.topics.includes(tp.topic) && tp.partition < partitionsOf(tp.topic)
  // Keep owned partitions up to the floor, then up to floor + 1 while such slots remain.
  for (const member of members) {
    const keep = member.owned.filter((tp) => valid(member, tp) && !taken.has(tpKey(tp)))
    let quota = floor
    if (keep.length > floor && ceilSlots > 0) {
      quota = floor + 1
      ceilSlots--
    }
    for (const tp of keep.slice(0, quota)) {
      out.get(member.id)!.push({ topic: tp.topic, partition: tp.partition })
      taken.add(tpKey(tp))
    }
  }
  // The rest to the least loaded member subscribed to its topic.
  for (const tp of all) {
    if (taken.has(tpKey(tp))) continue
    let best: AssignorMember | undefined
    for (const member of members) {
      if (!member.topics.includes(tp.topic)) continue
      if (!best || out.get(member.id)!.length < out.get(best.id)!.length) best = member
    }
    if (best) out.get(best.id)!.push(tp)
    taken.add(tpKey(tp))
  }
  return out
}
