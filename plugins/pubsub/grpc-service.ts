// The broker on the kernel's gRPC port (proto/pubsub.proto).
/* eslint-disable @typescript-eslint/no-explicit-any -- proto-loader makes untyped clients and packages */
import { checkBearer, grpc, type PluginContext } from '@armature/core'
import { PubsubError, type Broker, type Delivery, type SeekTarget } from './src/index.ts'
import type { IngressGate } from './src/ingress-gate.ts'
import { fromWireProduce, grpcError, toWire, type WireRecord } from './src/wire.ts'
import { packStored, unpackProduce } from './src/packed.ts'

type Unary<Q> = grpc.ServerUnaryCall<Q, unknown>
type Done = grpc.sendUnaryData<unknown>

interface ProduceRequest {
  id: string
  topic: string
  records: WireRecord[]
  producer_id: string
  base_sequence: string
  delay_ms: number
  create_partitions: number
  offset_range: boolean
  packed_records: Buffer
}

interface JoinRequest {
  group: string
  topics: string[]
  session_timeout_ms: number
  mode: string
  assignor: string
  member_id: string
  client_id: string
}

interface Wire {
  topic: string
  partition: number
  offset: string
}

interface AckRange {
  topic: string
  partition: number
  first_offset: string
  count: number
}

/** The most offsets one AckRange may name: bounds the work one request can ask for (a member holds its maxAckPending at most). */
const MAX_ACK_RANGE = 1_000_000

/** One partition's deliveries gathered for a packed reply. */
interface PartitionOutbox {
  topic: string
  partition: number
  records: Delivery['record'][]
  deliveries: number[]
}

const unary =
  <Q>(run: (request: Q) => unknown | Promise<unknown>) =>
  (call: Unary<Q>, done: Done) => {
    Promise.resolve()
      .then(() => run(call.request))
      .then(
        (reply) => done(null, reply ?? {}),
        (error) => done(grpcError(error)),
      )
  }

const memberState = (s: { memberId: string; generation: number; assignment: unknown[]; revoking: unknown[] }) => ({
  member_id: s.memberId,
  generation: s.generation,
  assignment: s.assignment,
  revoking: s.revoking,
})

/**
 * Every method behind the bearer token (PUBSUB_TOKEN) in the call's `authorization` metadata:
 * a unary call is answered UNAUTHENTICATED, a stream ended with it before a message is read.
 */
function guarded(token: string, implementation: Record<string, (...args: any[]) => unknown>): Record<string, (...args: any[]) => unknown> {
  const refusal = (call: { metadata: grpc.Metadata }) => {
    const check = checkBearer(token, call.metadata.get('authorization')[0]?.toString())
    if (check === 'ok') return undefined
    return grpcError(new PubsubError('UNAUTHENTICATED', check === 'missing' ? 'missing bearer token: send authorization: Bearer <PUBSUB_TOKEN> metadata' : 'wrong bearer token'))
  }
  return Object.fromEntries(
    Object.entries(implementation).map(([name, handler]) => [
      name,
      handler.length >= 2
        ? (call: Unary<unknown>, done: Done) => {
            const error = refusal(call)
            if (error) done(error)
            else handler(call, done)
          }
        : (call: grpc.ServerDuplexStream<unknown, unknown>) => {
            const error = refusal(call)
            if (error) call.emit('error', error)
            else handler(call)
          },
    ]),
  )
}

/** `token`: PUBSUB_TOKEN, which every call must carry when it is set. */
export function registerGrpc(ctx: PluginContext, broker: Broker, gate: IngressGate, token = ''): void {
  const proto = ctx.grpc.load('pubsub.proto') as any
  // A long-poll Fetch answers at Ingress rather than holding the stop.
  const fetchSignal = AbortSignal.any([ctx.signal, gate.signal])
  const produce = async (request: ProduceRequest) => {
    gate.check('new records')
    const packed = request.packed_records?.length > 0
    if (packed && request.records?.length) throw new PubsubError('MALFORMED', 'a ProduceRequest carries records or packed_records, not both')
    const records = packed ? unpackProduce(request.packed_records) : (request.records ?? []).map(fromWireProduce)
    if (request.create_partitions > 0 && !broker.hasTopic(request.topic)) {
      try {
        broker.createTopic(request.topic, { partitions: request.create_partitions })
      } catch (error) {
        if (!(error instanceof PubsubError && error.code === 'TOPIC_EXISTS')) throw error
      }
    }
    if (request.delay_ms > 0) {
      await broker.delayed.schedule(request.topic, records, request.delay_ms)
      return { id: request.id, offsets: [] }
    }
    const producerId = Number(request.producer_id)
    if (producerId > 0) {
      const offsets = await broker.produce(request.topic, records, { producerId, baseSequence: Number(request.base_sequence) })
      // An idempotent batch went to one partition, at consecutive offsets: its first says all.
      if (request.offset_range) return { id: request.id, offsets: [], partition: offsets[0]!.partition, base_offset: offsets[0]!.offset }
      return { id: request.id, offsets }
    }
    return { id: request.id, offsets: await broker.produce(request.topic, records) }
  }

  const methods: Record<string, (...args: any[]) => unknown> = {
    Produce: unary(produce),
    ProduceStream(call: grpc.ServerDuplexStream<ProduceRequest, unknown>) {
      call.on('data', (request: ProduceRequest) => {
        produce(request).then(
          (reply) => ctx.grpc.write(call, reply).catch(() => {}),
          (error) => {
            const refusal = error instanceof PubsubError ? error : new PubsubError('INVALID_ARGUMENT', String(error))
            ctx.grpc.write(call, { id: request.id, offsets: [], error_code: refusal.code, error: refusal.message, retriable: refusal.retriable }).catch(() => {})
          },
        )
      })
      call.on('end', () => call.end())
      call.on('error', () => {})
    },
    Fetch: unary(async (r: { topic: string; partition: number; offset: string; max_messages: number; max_bytes: number; max_wait_ms: number; packed: boolean }) => {
      const result = await broker.fetch(r.topic, r.partition, Number(r.offset), {
        maxMessages: r.max_messages || 500,
        maxBytes: r.max_bytes || 1_048_576,
        maxWaitMs: r.max_wait_ms,
        signal: fetchSignal,
      })
      const bounds = { high_watermark: result.highWatermark, log_start_offset: result.logStartOffset }
      return r.packed ? { packed_records: packStored(result.records), ...bounds } : { records: result.records.map(toWire), ...bounds }
    }),
    Subscribe(
      call: grpc.ServerDuplexStream<
        {
          join: JoinRequest | null
          push: { max_ack_pending: number; ack_wait_ms: number; max_deliveries: number; packed: boolean } | null
          acks: Wire[]
          ack_ranges: AckRange[]
          naks: Wire[]
          nak_delay_ms: number
          pause: boolean
        },
        unknown
      >,
    ) {
      let member: { group: string; id: string } | undefined
      let beat: NodeJS.Timeout | undefined
      // Deliveries go out in small batches, one write per turn of the event loop: as Delivery
      // messages, or (a member that asked for packed) one packed set per partition.
      let outbox: unknown[] = []
      let packedOutbox = new Map<string, PartitionOutbox>()
      let offGate = () => {}
      const flush = () => {
        const deliveries = outbox
        const packed = packedOutbox
        outbox = []
        packedOutbox = new Map()
        if (call.destroyed || !gate.open) return
        if (deliveries.length) ctx.grpc.write(call, { deliveries }).catch(() => {})
        if (packed.size) {
          const packed_deliveries = [...packed.values()].map((p) => ({ topic: p.topic, partition: p.partition, records: packStored(p.records, p.deliveries) }))
          ctx.grpc.write(call, { packed_deliveries }).catch(() => {})
        }
      }
      const sink = (d: Delivery) => {
        if (outbox.length === 0) setImmediate(flush)
        outbox.push({ topic: d.topic, partition: d.partition, record: toWire(d.record), deliveries: d.deliveries })
      }
      const packedSink = (d: Delivery) => {
        if (packedOutbox.size === 0) setImmediate(flush)
        const key = `${d.partition}/${d.topic}`
        let partition = packedOutbox.get(key)
        if (!partition) packedOutbox.set(key, (partition = { topic: d.topic, partition: d.partition, records: [], deliveries: [] }))
        partition.records.push(d.record)
        partition.deliveries.push(d.deliveries)
      }
      const end = () => {
        clearInterval(beat)
        offGate()
        if (!member) return
        const { group, id } = member
        member = undefined
        try {
          broker.group(group).leave(id)
        } catch {
          // Already gone.
        }
      }
      call.on('data', (request) => {
        try {
          if (!member) {
            const join = request.join
            if (!join) throw new PubsubError('MALFORMED', 'the first Subscribe request must carry join')
            gate.check('new subscriptions')
            const push = request.push ?? { max_ack_pending: 100, ack_wait_ms: 30_000, max_deliveries: 0, packed: false }
            const state = broker.join(join.group, {
              topics: join.topics,
              sessionTimeoutMs: join.session_timeout_ms || 30_000,
              mode: (join.mode || 'exclusive') as 'exclusive',
              assignor: (join.assignor || 'cooperative-sticky') as 'range',
              clientId: join.client_id,
              push: {
                options: { maxAckPending: push.max_ack_pending || 100, ackWaitMs: push.ack_wait_ms, maxDeliveries: push.max_deliveries },
                sink: push.packed ? packedSink : sink,
              },
            })
            member = { group: join.group, id: state.memberId }
            // The open stream is the member's heartbeat.
            const group = broker.group(join.group)
            beat = setInterval(() => member && group.heartbeat(member.id, Date.now()), 1000)
            // Ingress: the stream stops sending; what it holds stays unacknowledged until it ends.
            offGate = gate.onClose(() => {
              outbox = []
              packedOutbox = new Map()
              if (member) group.pause(member.id)
            })
            ctx.grpc.write(call, { joined: memberState(state) }).catch(() => {})
            return
          }
          const group = broker.group(member.group)
          for (const a of request.acks ?? []) group.ack(member.id, a.topic, a.partition, Number(a.offset))
          for (const r of request.ack_ranges ?? []) {
            if (r.count > MAX_ACK_RANGE) throw new PubsubError('MALFORMED', `ack_ranges: a range of ${r.count} offsets, at most ${MAX_ACK_RANGE}`)
            group.ackRange(member.id, r.topic, r.partition, Number(r.first_offset), r.count)
          }
          for (const n of request.naks ?? []) group.nak(member.id, n.topic, n.partition, Number(n.offset), request.nak_delay_ms, Date.now())
          if (request.pause) group.pause(member.id)
        } catch (error) {
          end()
          call.emit('error', grpcError(error))
        }
      })
      call.on('end', () => {
        end()
        call.end()
      })
      call.on('close', end)
      call.on('error', end)
    },
    Join: unary((r: JoinRequest) => {
      gate.check('new subscriptions')
      return memberState(
        broker.join(r.group, {
          topics: r.topics,
          sessionTimeoutMs: r.session_timeout_ms || 30_000,
          mode: (r.mode || 'exclusive') as 'exclusive',
          assignor: (r.assignor || 'cooperative-sticky') as 'range',
          memberId: r.member_id || undefined,
          clientId: r.client_id,
        }),
      )
    }),
    Heartbeat: unary((r: { group: string; member_id: string }) => memberState(broker.group(r.group).heartbeat(r.member_id, Date.now()))),
    Release: unary((r: { group: string; member_id: string; partitions: Array<{ topic: string; partition: number }> }) =>
      memberState(broker.group(r.group).release(r.member_id, r.partitions, Date.now())),
    ),
    Leave: unary((r: { group: string; member_id: string }) => void broker.group(r.group).leave(r.member_id)),
    Commit: unary((r: { group: string; member_id: string; generation: number; offsets: Wire[] }) =>
      broker.group(r.group).commit(
        r.member_id,
        r.generation,
        r.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })),
        Date.now(),
      ),
    ),
    Offsets: unary((r: { group: string; partitions: Array<{ topic: string; partition: number }> }) => {
      const group = broker.group(r.group)
      return {
        offsets: (r.partitions ?? []).map(({ topic, partition }) => {
          const log = broker.log(topic, partition)
          const committed = group.committed(topic, partition)
          return { topic, partition, committed: committed ?? 0, has_committed: committed !== undefined, start: log.startOffset, end: log.endOffset }
        }),
      }
    }),
    InitProducer: unary(() => ({ producer_id: broker.initProducer().producerId })),
    CreateTopic: unary((r: { name: string; partitions: number; if_not_exists: boolean; retention_records: string; retention_bytes: string; retention_ms: string }) => {
      if (!(r.if_not_exists && broker.hasTopic(r.name))) {
        broker.createTopic(r.name, {
          ...(r.partitions ? { partitions: r.partitions } : {}),
          retention: { maxRecords: Number(r.retention_records), maxBytes: Number(r.retention_bytes), maxAgeMs: Number(r.retention_ms) },
        })
      }
      return topicInfo(broker, r.name)
    }),
    ListTopics: unary(() => ({ topics: broker.topics().map((t) => topicInfo(broker, t.name)) })),
    ListGroups: unary(() => ({ groups: broker.groups() })),
    DescribeGroup: unary((r: { group: string }) => {
      const group = broker.group(r.group)
      return { json: JSON.stringify({ ...group.describe(Date.now()), lag: group.lag() }) }
    }),
    Seek: unary((r: { group: string; topic: string; partition: number; to: string; value: string }) => {
      const target: SeekTarget = r.to === 'earliest' || r.to === 'latest' ? r.to : r.to === 'timestamp' ? { timestamp: Number(r.value) } : { offset: Number(r.value) }
      if (!['earliest', 'latest', 'offset', 'timestamp'].includes(r.to))
        throw new PubsubError('INVALID_ARGUMENT', `to: expected earliest, latest, offset or timestamp, got ${JSON.stringify(r.to)}`)
      return { offset: broker.seek(r.group, r.topic, r.partition, target) }
    }),
  }
  ctx.grpc.service(proto.armature.pubsub.Pubsub.service, token ? guarded(token, methods) : methods)
}

function topicInfo(broker: Broker, name: string) {
  const t = broker.topics().find((x) => x.name === name)
  if (!t) throw new PubsubError('UNKNOWN_TOPIC', `topic '${name}' does not exist`)
  return { name: t.name, partitions: t.partitions, partitions_info: t.partitionsInfo }
}
