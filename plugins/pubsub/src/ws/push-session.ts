// One WebSocket as a push member of a group, for browsers. JSON text frames:
//   in:  { "type": "subscribe", "group", "topics", "mode"?, "assignor"?, "maxAckPending"?, "ackWaitMs"?, "maxDeliveries"?, "sessionTimeoutMs"? }
//        { "type": "ack", "records": [{ "topic", "partition", "offset" }] }
//        { "type": "nak", "records": [...], "delayMs"? }
//   out: { "type": "subscribed", "memberId", "generation", "assignment" }
//        { "type": "records", "records": [{ topic, partition, offset, timestamp, key, value | valueBase64, headers, deliveries }] }
//        { "type": "error", "error_code", "error" }   (the socket stays open)
//        { "type": "stopping" }                       (the broker stops: no more records; unacknowledged ones come again later)
// At most maxAckPending records are unacknowledged; they go out one send at a time (the next
// batch waits for the socket to take the last), so a slow browser holds the broker to its bound.
import type { Broker } from '../broker.ts'
import type { Delivery } from '../dispatcher.ts'
import { PubsubError } from '../errors.ts'
import type { ConsumerGroup, GroupMode } from '../group.ts'
import type { AssignorName } from '../assignors.ts'
import type { IngressGate } from '../ingress-gate.ts'
import { isObject, recordToJson, type JsonRecord } from '../http/json-records.ts'

export interface PushSessionOptions {
  broker: Broker
  gate: IngressGate
  /** Sends one text frame; resolves when the socket can take more, rejects once it is closed. */
  send: (text: string) => Promise<void>
  clientId?: string
}

type Acked = { topic: string; partition: number; offset: number }

const FRAME_BYTES = 1_048_576
const sizeOf = (r: JsonRecord): number => 64 + (r.value ?? r.valueBase64 ?? '').length + (r.key ?? r.keyBase64 ?? '').length

export class PushSession {
  readonly #options: PushSessionOptions
  #member: { group: ConsumerGroup; id: string } | undefined
  #beat: NodeJS.Timeout | undefined
  #outbox: Array<JsonRecord & { deliveries: number }> = []
  #sending = false
  #ended = false
  readonly #offGate: () => void

  constructor(options: PushSessionOptions) {
    this.#options = options
    this.#offGate = options.gate.onClose(() => this.#stopSending())
  }

  /** One frame from the client. A bad one is answered with an error frame; the session goes on. */
  handle(data: string | Buffer, isBinary: boolean): void {
    try {
      if (isBinary) throw new PubsubError('MALFORMED', 'frames are JSON text, not binary')
      let message: unknown
      try {
        message = JSON.parse(String(data))
      } catch {
        throw new PubsubError('MALFORMED', 'the frame is not valid JSON')
      }
      if (!isObject(message)) throw new PubsubError('MALFORMED', 'expected a JSON object with "type"')
      if (message.type === 'subscribe') this.#subscribe(message)
      else if (message.type === 'ack') for (const r of this.#records(message)) this.#joined().group.ack(this.#joined().id, r.topic, r.partition, r.offset)
      else if (message.type === 'nak') {
        const delayMs = message.delayMs ?? 0
        if (!Number.isInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > 3_600_000)
          throw new PubsubError('INVALID_ARGUMENT', 'delayMs: expected an integer from 0 to 3600000')
        for (const r of this.#records(message)) this.#joined().group.nak(this.#joined().id, r.topic, r.partition, r.offset, delayMs as number, Date.now())
      } else throw new PubsubError('MALFORMED', `type: expected subscribe, ack or nak, got ${JSON.stringify(message.type)}`)
    } catch (error) {
      const refusal = error instanceof PubsubError ? error : new PubsubError('INVALID_ARGUMENT', String((error as Error)?.message ?? error))
      this.#options.send(JSON.stringify({ type: 'error', error_code: refusal.code, error: refusal.message })).catch(() => this.end())
    }
  }

  /** The socket closed: the member leaves, and what it had not acknowledged goes to another member. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#offGate()
    clearInterval(this.#beat)
    this.#outbox = []
    if (!this.#member) return
    try {
      this.#member.group.leave(this.#member.id)
    } catch {
      // Its session had ended already.
    }
    this.#member = undefined
  }

  #subscribe(m: Record<string, unknown>): void {
    if (this.#member) throw new PubsubError('INVALID_ARGUMENT', 'this socket is subscribed already (open another socket for another subscription)')
    this.#options.gate.check('new subscriptions')
    const { broker } = this.#options
    if (typeof m.group !== 'string') throw new PubsubError('INVALID_ARGUMENT', 'group: expected a group id')
    const state = broker.join(m.group, {
      topics: m.topics as string[],
      sessionTimeoutMs: (m.sessionTimeoutMs as number) ?? 30_000,
      mode: (m.mode as GroupMode) ?? 'exclusive',
      assignor: (m.assignor as AssignorName) ?? 'cooperative-sticky',
      clientId: this.#options.clientId,
      push: {
        options: { maxAckPending: (m.maxAckPending as number) ?? 100, ackWaitMs: (m.ackWaitMs as number) ?? 30_000, maxDeliveries: (m.maxDeliveries as number) ?? 0 },
        sink: (d) => this.#deliver(d),
      },
    })
    const group = broker.group(m.group)
    this.#member = { group, id: state.memberId }
    // The open socket is the member's heartbeat.
    this.#beat = setInterval(() => {
      try {
        if (this.#member) group.heartbeat(this.#member.id, Date.now())
      } catch {
        this.end()
      }
    }, 1000)
    this.#beat.unref()
    this.#options.send(JSON.stringify({ type: 'subscribed', memberId: state.memberId, generation: state.generation, assignment: state.assignment })).catch(() => this.end())
    void this.#flush()
  }

  #joined(): { group: ConsumerGroup; id: string } {
    if (!this.#member) throw new PubsubError('INVALID_ARGUMENT', 'subscribe first')
    return this.#member
  }

  #records(m: Record<string, unknown>): Acked[] {
    if (!Array.isArray(m.records)) throw new PubsubError('MALFORMED', 'records: expected an array of { topic, partition, offset }')
    return m.records.map((r, i) => {
      if (!isObject(r) || typeof r.topic !== 'string' || !Number.isInteger(r.partition) || !Number.isInteger(r.offset)) {
        throw new PubsubError('MALFORMED', `records[${i}]: expected { topic, partition, offset }`)
      }
      return r as unknown as Acked
    })
  }

  #deliver(d: Delivery): void {
    if (this.#ended || !this.#options.gate.open) return
    this.#outbox.push({ ...recordToJson(d.topic, d.partition, d.record), deliveries: d.deliveries })
    // Called from inside the broker's pump: the send happens after it.
    if (this.#outbox.length === 1) queueMicrotask(() => void this.#flush())
  }

  async #flush(): Promise<void> {
    if (this.#sending) return
    this.#sending = true
    try {
      while (this.#outbox.length && !this.#ended && this.#options.gate.open) {
        // Frames of about FRAME_BYTES (at least one record), so no single frame is the whole window.
        let n = 0
        for (let bytes = 0; n < this.#outbox.length && (n === 0 || bytes < FRAME_BYTES); n++) bytes += sizeOf(this.#outbox[n]!)
        const records = this.#outbox.splice(0, n)
        await this.#options.send(JSON.stringify({ type: 'records', records }))
      }
    } catch {
      this.end()
    } finally {
      this.#sending = false
    }
  }

  /** Ingress: no more records go out; held ones stay unacknowledged (acks still count). */
  #stopSending(): void {
    if (this.#member) {
      try {
        this.#member.group.pause(this.#member.id)
      } catch {
        // Gone already.
      }
    }
    this.#outbox = []
    this.#options.send(JSON.stringify({ type: 'stopping' })).catch(() => {})
  }
}
