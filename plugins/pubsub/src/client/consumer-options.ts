// What a consumer is configured with and what its handlers receive. Names follow kafkajs where
// the idea is the same (eachMessage, eachBatch, heartbeat, resolveOffset), so its users feel at home.
import type { AssignorName, TopicPartition } from '../assignors.ts'
import type { StoredRecord } from '../record.ts'

export interface ConsumerOptions {
  groupId: string
  /** pull: long-poll Fetch and commits by the client; push: the broker streams records (Subscribe) and acknowledgements commit. */
  mode?: 'pull' | 'push'
  /** The broker drops a member it has not heard from for this long; its partitions go to the others. */
  sessionTimeoutMs?: number
  /** Pull: how often the member heartbeats (and learns of rebalances); the default is a third of the session timeout, at most 1 s. */
  heartbeatIntervalMs?: number
  assignor?: AssignorName
  /** Where a partition the group never committed starts: the earliest retained record (true) or the end. */
  fromBeginning?: boolean
  /** Pull: commit the position after handled records (every autoCommitIntervalMs, on revocation, on disconnect); false: only `commit()` commits. */
  autoCommit?: boolean
  autoCommitIntervalMs?: number
  /** Pull: the long-poll wait of one Fetch and its batch bounds. */
  maxWaitMs?: number
  maxMessages?: number
  maxBytes?: number
  /** Pull: handlers of this many partitions may run at once (records of one partition always run one at a time). */
  partitionsConsumedConcurrently?: number
  /** Push: the broker's flow control and redelivery (see the broker's PushOptions). */
  maxAckPending?: number
  ackWaitMs?: number
  maxDeliveries?: number
  /** A failed handler is retried after this delay, doubling up to 30 s (pull: in place; push: a nak with that delay). */
  retryDelayMs?: number
  clientId?: string
}

export interface EachMessagePayload {
  topic: string
  partition: number
  message: StoredRecord
  /** 1 on the first delivery; push counts redeliveries, pull does not know them and says 1. */
  deliveries: number
  /** Pull: tells the broker the member is alive during a long handler (the heartbeat loop also runs on its own). */
  heartbeat(): Promise<void>
  /** Pull: commits this partition up to and including this message now. */
  commit(): Promise<void>
}

export interface Batch {
  topic: string
  partition: number
  messages: StoredRecord[]
  /** Pull: the partition's end when fetched. */
  highWatermark: number
}

export interface EachBatchPayload {
  batch: Batch
  /** Marks a message handled (so the position moves past it even if the handler later throws). */
  resolveOffset(offset: number): void
  heartbeat(): Promise<void>
  /** Pull: commits what was resolved so far. */
  commit(): Promise<void>
  /** False once the partition is being revoked or the consumer disconnects: stop early, resolved messages count. */
  isRunning(): boolean
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void
}

/** A partition's position: the next offset to read (what a commit stores). */
export interface PartitionPosition extends TopicPartition {
  offset: number
}

/** What a consumer reports as it runs (consumer.on(name, listener)). */
export interface ConsumerEvents {
  /** Joined (or rejoined) the group. */
  join: [{ memberId: string; generation: number }]
  /** A partition is now this member's; pull reads from `offset`. */
  assigned: [PartitionPosition]
  /** Pull: the broker asked for a partition back; it stops after the record in hand, commits and releases it. */
  revoking: [TopicPartition]
  /** A partition was handed back after a rebalance (pull: after committing `offset`). */
  revoked: [PartitionPosition]
  /** A partition was lost without a commit (the session ended or the broker gave it to another member). */
  lost: [PartitionPosition]
  /** The broker took these committed offsets. */
  commit: [PartitionPosition[]]
  /** A handler threw; the record is retried. */
  retry: [{ error: Error; topic: string; partition: number; offset: number }]
  /** A transient failure (the connection, a refused call); the consumer carries on. */
  warning: [Error]
}

/** Misuse of a consumer: what it was asked, in which state. */
export class ConsumerError extends Error {
  override name = 'ConsumerError'
  constructor(
    readonly code: 'NOT_SUBSCRIBED' | 'ALREADY_RUNNING' | 'NO_HANDLER' | 'DISCONNECTED' | 'INVALID_OPTION',
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

export type ResolvedConsumerOptions = Required<Omit<ConsumerOptions, 'assignor' | 'clientId' | 'heartbeatIntervalMs'>> & {
  assignor: AssignorName
  clientId: string
  heartbeatIntervalMs: number
}

export function resolveOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  if (!options || typeof options.groupId !== 'string' || !options.groupId) throw new ConsumerError('INVALID_OPTION', 'groupId: expected a group name')
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000
  const resolved: ResolvedConsumerOptions = {
    groupId: options.groupId,
    mode: options.mode ?? 'pull',
    sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.min(1000, Math.floor(sessionTimeoutMs / 3)),
    assignor: options.assignor ?? 'cooperative-sticky',
    fromBeginning: options.fromBeginning ?? true,
    autoCommit: options.autoCommit ?? true,
    autoCommitIntervalMs: options.autoCommitIntervalMs ?? 1000,
    maxWaitMs: options.maxWaitMs ?? 1000,
    maxMessages: options.maxMessages ?? 500,
    maxBytes: options.maxBytes ?? 1_048_576,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    maxAckPending: options.maxAckPending ?? 100,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxDeliveries: options.maxDeliveries ?? 0,
    retryDelayMs: options.retryDelayMs ?? 100,
    clientId: options.clientId ?? '',
  }
  if (!['pull', 'push'].includes(resolved.mode)) throw new ConsumerError('INVALID_OPTION', `mode: expected pull or push, got ${JSON.stringify(resolved.mode)}`)
  for (const key of ['heartbeatIntervalMs', 'autoCommitIntervalMs', 'maxWaitMs', 'retryDelayMs', 'ackWaitMs', 'maxDeliveries'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 0) throw new ConsumerError('INVALID_OPTION', `${key}: expected an integer >= 0, got ${resolved[key]}`)
  }
  for (const key of ['sessionTimeoutMs', 'maxMessages', 'maxBytes', 'partitionsConsumedConcurrently', 'maxAckPending'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new ConsumerError('INVALID_OPTION', `${key}: expected an integer >= 1, got ${resolved[key]}`)
  }
  if (resolved.heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConsumerError('INVALID_OPTION', `heartbeatIntervalMs ${resolved.heartbeatIntervalMs} must be below sessionTimeoutMs ${sessionTimeoutMs}`)
  }
  return resolved
}

export const retryDelay = (base: number, attempt: number): number => Math.min(30_000, base * 2 ** Math.min(attempt, 20))
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
