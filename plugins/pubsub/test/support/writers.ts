// Producers writing numbered records until stopped, each acknowledged write kept for the checker.
import { Producer, PubsubConnection } from '../../src/index.ts'
import type { Write } from './history-checker.ts'

export class Writers {
  readonly writes: Write[] = []
  #stopped = false
  readonly #loops: Array<Promise<void>>
  readonly #connections: PubsubConnection[] = []

  /** `count` producers, each sending one record at a time (keyed, so a producer's keys spread over the partitions) every `pauseMs`. */
  constructor(url: string, topic: string, { count = 3, pauseMs = 5 } = {}) {
    this.#loops = Array.from({ length: count }, (_, n) => {
      const connection = new PubsubConnection(url)
      this.#connections.push(connection)
      const producer = new Producer(connection, { retries: 30 })
      return (async () => {
        for (let seq = 0; !this.#stopped; seq++) {
          const value = `w${n}-${seq}`
          const [ack] = await producer.send({ topic, messages: [{ key: `key-${n}-${seq % 31}`, value }] })
          this.writes.push({ producer: `w${n}`, seq, partition: ack!.partition, offset: ack!.offset, value })
          await new Promise((resolve) => setTimeout(resolve, pauseMs))
        }
        await producer.close()
      })()
    })
  }

  get count(): number {
    return this.writes.length
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
    for (const c of this.#connections) c.close()
  }
}
