// A consumer process for the fault tests: one group member running the client, writing what
// happens as JSON lines on stdout (a pipe, so each write lands before the next line of code
// runs and a kill -9 loses nothing already written). Configured by CONSUMER_CONFIG (JSON).
// A record whose value is `slow:<ms>` holds the handler that long; `gate:<path>` holds it until
// the file at <path> exists (the test decides when a partition's handler may go on).
import { existsSync } from 'node:fs'
import { Consumer, type ConsumerOptions } from '../../src/index.ts'

export interface ConsumerProcessConfig {
  url: string
  topics: string[]
  options: ConsumerOptions
  /** Each handler call takes this long (ms). */
  handleMs?: number
  /** eachBatch instead of eachMessage. */
  batch?: boolean
}

const config = JSON.parse(process.env.CONSUMER_CONFIG ?? '{}') as ConsumerProcessConfig
const line = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...event, t: Date.now() })}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const consumer = new Consumer(config.url, config.options)
consumer.on('join', (s) => line({ e: 'join', memberId: s.memberId, generation: s.generation }))
consumer.on('assigned', (p) => line({ e: 'assigned', ...p }))
consumer.on('revoking', (p) => line({ e: 'revoking', ...p }))
consumer.on('revoked', (p) => line({ e: 'revoked', ...p }))
consumer.on('lost', (p) => line({ e: 'lost', ...p }))
consumer.on('commit', (offsets) => line({ e: 'commit', offsets }))
consumer.on('retry', (r) => line({ e: 'retry', error: r.error.message, topic: r.topic, partition: r.partition, offset: r.offset }))
consumer.on('warning', (error) => line({ e: 'warning', error: error.message }))

const handle = async (topic: string, partition: number, offset: number, value: string, deliveries: number) => {
  line({ e: 'read', topic, partition, offset, value, deliveries })
  const slow = /^slow:(\d+)/.exec(value)
  const gate = /^gate:(.+)$/.exec(value)
  if (slow) await sleep(Number(slow[1]))
  else if (gate) while (!existsSync(gate[1]!)) await sleep(20)
  else if (config.handleMs) await sleep(config.handleMs)
}

await consumer.subscribe({ topics: config.topics })
await consumer.run(
  config.batch
    ? {
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const m of batch.messages) {
            await handle(batch.topic, batch.partition, m.offset, m.value.toString(), 1)
            resolveOffset(m.offset)
          }
        },
      }
    : { eachMessage: ({ topic, partition, message, deliveries }) => handle(topic, partition, message.offset, message.value.toString(), deliveries) },
)
line({ e: 'running' })

process.on('SIGTERM', () => {
  consumer.disconnect().then(
    () => {
      line({ e: 'disconnected' })
      process.exit(0)
    },
    (error: Error) => {
      line({ e: 'warning', error: error.message })
      process.exit(1)
    },
  )
})
