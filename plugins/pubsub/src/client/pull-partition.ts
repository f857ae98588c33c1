// One assigned partition of a pull member: long-poll Fetch from the position, hand the records
// to the handler one at a time (or as a batch), and move the position past what was handled.
// The position only moves after the handler returned, so a commit never covers a record that
// was not processed; a failed handler leaves the position on the failed record and the same
// records are fetched again after a delay (order holds: nothing after it runs first).
import type { TopicPartition } from '../assignors.ts'
import { PubsubError } from '../errors.ts'
import type { StoredRecord } from '../record.ts'
import { unpackStored } from '../packed.ts'
import type { PubsubConnection } from './connection.ts'
import { retryDelay, type ResolvedConsumerOptions, type RunOptions } from './consumer-options.ts'

export interface PartitionHost {
  readonly connection: PubsubConnection
  readonly options: ResolvedConsumerOptions
  readonly handlers: RunOptions
  /** Where a newly assigned partition starts (the group's commit, or the reset policy). */
  startOffset(tp: TopicPartition): Promise<number>
  /** Resolves once the member's session is known to be alive (false: stop). */
  alive(runner: PartitionRunner): Promise<boolean>
  /** Runs `work` when fewer than partitionsConsumedConcurrently handlers run. */
  gate<T>(work: () => Promise<T>): Promise<T>
  heartbeat(): Promise<void>
  commit(runner: PartitionRunner): Promise<void>
  assigned(runner: PartitionRunner): void
  retry(error: Error, runner: PartitionRunner): void
  warn(error: Error): void
}

class HandlerFailure extends Error {
  constructor(readonly cause: Error) {
    super(cause.message)
  }
}

export class PartitionRunner {
  /** The next offset to hand to the handler (undefined until the start offset is known). */
  position: number | undefined
  /** The last offset the broker took as committed for this partition by this member. */
  committed = -1
  /** Set once the partition is being revoked: commit, then release. */
  revoking = false
  #running = true
  readonly #abort = new AbortController()
  readonly done: Promise<void>

  constructor(
    readonly tp: TopicPartition,
    readonly host: PartitionHost,
  ) {
    this.done = this.#loop()
  }

  get running(): boolean {
    return this.#running
  }

  /** Stops after the record being handled (a long-poll in flight is cancelled); resolves when the loop ended. */
  stop(): Promise<void> {
    this.#running = false
    this.#abort.abort()
    return this.done
  }

  async #loop(): Promise<void> {
    const { connection, options } = this.host
    let failures = 0
    while (this.#running) {
      try {
        if (this.position === undefined) {
          const start = await this.host.startOffset(this.tp)
          if (!this.#running) break
          this.position = start
          this.host.assigned(this)
        }
        if (!(await this.host.alive(this))) break
        const reply = await connection.call<{ packed_records: Buffer; high_watermark: string }>(
          'Fetch',
          {
            topic: this.tp.topic,
            partition: this.tp.partition,
            offset: this.position,
            max_messages: options.maxMessages,
            max_bytes: options.maxBytes,
            max_wait_ms: options.maxWaitMs,
            packed: true,
          },
          options.maxWaitMs + 15_000,
          this.#abort.signal,
        )
        if (!this.#running) break
        const records: StoredRecord[] = []
        unpackStored(reply.packed_records, (record) => records.push(record))
        if (records.length === 0) continue
        await this.host.gate(() => this.#handle(records, Number(reply.high_watermark)))
        failures = 0
      } catch (error) {
        if (!this.#running) break
        if (error instanceof PubsubError && error.code === 'OFFSET_OUT_OF_RANGE') {
          // Retention dropped what the position names (or it is past the end): start over where the reset policy says.
          this.host.warn(error)
          this.position = undefined
          continue
        }
        if (error instanceof HandlerFailure) this.host.retry(error.cause, this)
        else this.host.warn(error as Error)
        await this.#pause(retryDelay(options.retryDelayMs, failures++))
      }
    }
  }

  async #handle(records: StoredRecord[], highWatermark: number): Promise<void> {
    const { handlers } = this.host
    const { topic, partition } = this.tp
    try {
      if (handlers.eachBatch) {
        const first = records[0]!.offset
        let resolved = first
        await handlers.eachBatch({
          batch: { topic, partition, messages: records, highWatermark },
          resolveOffset: (offset) => {
            if (offset + 1 > resolved && offset >= first && offset <= records.at(-1)!.offset) this.position = resolved = offset + 1
          },
          heartbeat: () => this.host.heartbeat(),
          commit: () => this.host.commit(this),
          isRunning: () => this.#running,
        })
        this.position = records.at(-1)!.offset + 1
        return
      }
      for (const message of records) {
        if (!this.#running || !(await this.host.alive(this))) return
        await handlers.eachMessage!({
          topic,
          partition,
          message,
          deliveries: 1,
          heartbeat: () => this.host.heartbeat(),
          commit: () => {
            this.position = message.offset + 1
            return this.host.commit(this)
          },
        })
        this.position = message.offset + 1
      }
    } catch (error) {
      throw new HandlerFailure(error instanceof Error ? error : new Error(String(error)))
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#abort.signal.addEventListener('abort', done, { once: true })
    })
  }
}
