// consumer.run({ eachMessage | eachBatch }): a group member in pull or push mode that rejoins
// by itself after a rebalance, a fenced generation or a lost connection, and leaves cleanly
// on disconnect(). Usable from any Node program:
//
//   const consumer = new Consumer('grpc://127.0.0.1:50051', { groupId: 'billing' })
//   await consumer.subscribe({ topics: ['orders'] })
//   await consumer.run({ eachMessage: async ({ message }) => handle(message.value) })
//   ...
//   await consumer.disconnect()
import { EventEmitter } from 'node:events'
import type { TopicPartition } from '../assignors.ts'
import { PubsubConnection } from './connection.ts'
import {
  ConsumerError,
  resolveOptions,
  type ConsumerEvents,
  type ConsumerOptions,
  type PartitionPosition,
  type ResolvedConsumerOptions,
  type RunOptions,
} from './consumer-options.ts'
import { PullMember } from './pull-member.ts'
import { PushMember } from './push-member.ts'

export class Consumer extends EventEmitter<ConsumerEvents> {
  readonly connection: PubsubConnection
  readonly options: ResolvedConsumerOptions
  readonly #ownsConnection: boolean
  #topics: string[] = []
  #member: PullMember | PushMember | undefined
  #state: 'idle' | 'running' | 'disconnected' = 'idle'

  /** `broker`: a connection to share, or a `grpc://host:port` URL (the consumer then owns and closes its connection). */
  constructor(broker: PubsubConnection | string, options: ConsumerOptions) {
    super()
    this.options = resolveOptions(options)
    this.#ownsConnection = typeof broker === 'string'
    this.connection = typeof broker === 'string' ? new PubsubConnection(broker) : broker
  }

  /** Topics to consume; call before run(). `fromBeginning` overrides the option of the same name. */
  async subscribe(input: { topics: string[]; fromBeginning?: boolean }): Promise<void> {
    if (this.#state !== 'idle') throw new ConsumerError('ALREADY_RUNNING', 'subscribe() before run(); this consumer already runs')
    if (!Array.isArray(input?.topics) || input.topics.length === 0 || input.topics.some((t) => typeof t !== 'string' || !t)) {
      throw new ConsumerError('INVALID_OPTION', 'topics: expected a non-empty array of topic names')
    }
    this.#topics = [...new Set([...this.#topics, ...input.topics])]
    if (input.fromBeginning !== undefined) this.options.fromBeginning = input.fromBeginning
  }

  /** Joins the group and starts handing records to the handler; resolves once joined. A refusal that cannot heal (an unknown topic) rejects. */
  async run(handlers: RunOptions): Promise<void> {
    if (this.#state === 'running') throw new ConsumerError('ALREADY_RUNNING', 'run() was called already')
    if (this.#state === 'disconnected') throw new ConsumerError('DISCONNECTED', 'this consumer was disconnected; make a new one')
    if (this.#topics.length === 0) throw new ConsumerError('NOT_SUBSCRIBED', 'call subscribe({ topics }) before run()')
    if (!handlers || (typeof handlers.eachMessage !== 'function') === (typeof handlers.eachBatch !== 'function')) {
      throw new ConsumerError('NO_HANDLER', 'run() takes exactly one of eachMessage or eachBatch')
    }
    this.#state = 'running'
    // A listener that throws must not break the member's loops.
    const emit = (name: keyof ConsumerEvents, ...args: unknown[]) => {
      try {
        ;(this.emit as (name: string, ...args: unknown[]) => boolean)(name, ...args)
      } catch {
        // The listener's own failure.
      }
    }
    const Member = this.options.mode === 'push' ? PushMember : PullMember
    this.#member = new Member(this.connection, this.options, this.#topics, handlers, emit as never)
    try {
      await this.#member.start()
    } catch (error) {
      this.#state = 'idle'
      await this.#member.stop()
      this.#member = undefined
      throw error
    }
  }

  get memberId(): string {
    return this.#member?.memberId ?? ''
  }

  /** Pull: the partitions this member holds now. */
  assignment(): TopicPartition[] {
    return this.#member instanceof PullMember ? this.#member.assignment() : []
  }

  /** Pull: commits positions (the next offset to read) of partitions this member holds. */
  async commitOffsets(positions: PartitionPosition[]): Promise<void> {
    if (!(this.#member instanceof PullMember)) throw new ConsumerError('INVALID_OPTION', 'commitOffsets() is for a running pull consumer (push commits by acknowledging)')
    await this.#member.commitOffsets(positions)
  }

  /** Stops after the records in hand, commits (pull, autoCommit) or acknowledges them (push), leaves the group. */
  async disconnect(): Promise<void> {
    if (this.#state === 'disconnected') return
    this.#state = 'disconnected'
    await this.#member?.stop()
    if (this.#ownsConnection) this.connection.close()
  }
}
