// The queue port's suite on RabbitMQ: the same promises any backend keeps, through ctx.queue
// of a real kernel with AMQP_URL set (default the local broker). Its queues are deleted after.
import { connect } from 'amqplib'
import { queuePortSuite, startTestKernel } from '@armature/testing'
import { delayQueueName } from '../src/servers/amqp/retry.ts'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

queuePortSuite((plugins) => startTestKernel({ plugins, env: { AMQP_URL } }), {
  backend: 'amqp',
  async cleanup({ queues, retryDelaysMs }) {
    const connection = await connect(AMQP_URL)
    const channel = await connection.createChannel()
    for (const queue of queues) {
      for (const name of [queue, ...retryDelaysMs.map((ms) => delayQueueName(queue, ms))]) await channel.deleteQueue(name).catch(() => {})
    }
    await connection.close()
  },
}).run()
