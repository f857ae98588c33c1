// The mixed load of the shutdown test and bench/shutdown: idle keep-alive sockets, slow HTTP
// requests, WebSocket clients, gRPC server streams and a queue of AMQP requests, all against
// one kernel serving the echo plugin. Each piece records how it ended.
import { request, Agent } from 'node:http'
import { connect, type Socket } from 'node:net'
import WebSocket from 'ws'
import amqp from 'amqplib'
import { waitFor } from '@armature/testing'
import { echoClient, serverStream } from './support.ts'

export interface MixedLoadOptions {
  httpUrl: string
  grpcAddress: string
  amqpUrl?: string
  requestQueue?: string
  idleSockets?: number
  slowRequests?: number
  slowMs?: number
  websockets?: number
  grpcStreams?: number
  amqpMessages?: number
}

export interface MixedLoad {
  /** Resolves when everything has ended after the stop: what each piece saw. */
  outcome(): Promise<MixedOutcome>
  cleanup(): Promise<void>
}

export interface MixedOutcome {
  slowStatuses: number[]
  idleClosed: number
  wsCloseCodes: number[]
  grpcStatuses: number[]
  amqp?: { published: number; replies: number; duplicates: number; leftInQueue: number }
}

function get(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
      res.on('error', () => resolve(0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

async function idleSocket(url: string): Promise<{ closed: Promise<void> }> {
  const { hostname, port } = new URL(url)
  const socket: Socket = connect(Number(port), hostname)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => undefined)
  let data = ''
  socket.on('data', (d) => (data += d))
  socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n')
  await waitFor(() => data.includes('\r\n\r\nok'), { what: 'an idle socket to be answered' })
  return { closed }
}

/** Opens every connection and waits until the slow requests and streams are in flight. */
export async function startMixedLoad(o: MixedLoadOptions): Promise<MixedLoad> {
  const idle = await Promise.all(Array.from({ length: o.idleSockets ?? 200 }, () => idleSocket(o.httpUrl)))

  let amqpSide: { connection: amqp.ChannelModel; channel: amqp.Channel; replyQueue: string; replies: Map<string, number>; published: number } | undefined
  if (o.amqpUrl && o.requestQueue) {
    const connection = await amqp.connect(o.amqpUrl)
    const channel = await connection.createChannel()
    const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true })
    const replies = new Map<string, number>()
    await channel.consume(
      replyQueue,
      (msg) => {
        if (!msg) return
        const id = String(msg.properties.correlationId)
        replies.set(id, (replies.get(id) ?? 0) + 1)
      },
      { noAck: true },
    )
    const total = o.amqpMessages ?? 500
    await channel.assertQueue(o.requestQueue, { durable: true })
    for (let i = 0; i < total; i++) {
      channel.sendToQueue(o.requestQueue, Buffer.from(`m${i}`), { replyTo: replyQueue, correlationId: `m${i}`, persistent: true })
    }
    amqpSide = { connection, channel, replyQueue, replies, published: total }
  }

  const agent = new Agent({ keepAlive: true, maxSockets: 1000 })
  const slow = Array.from({ length: o.slowRequests ?? 50 }, () => get(`${o.httpUrl}/echo/slow?ms=${o.slowMs ?? 1500}`, agent))

  const wsUrl = o.httpUrl.replace(/^http/, 'ws') + '/echo/ws'
  const sockets = await Promise.all(
    Array.from({ length: o.websockets ?? 100 }, async () => {
      const ws = new WebSocket(wsUrl)
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
      ws.on('error', () => undefined)
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      // Wrapped: an async function returning the promise itself would wait for the close.
      return { closed }
    }),
  )

  const client = echoClient(o.grpcAddress)
  const streams = Array.from({ length: o.grpcStreams ?? 20 }, () => serverStream(client, { message: 'tick', repeat: 100_000, interval_ms: 100 }))
  await waitFor(() => streams.every((s) => s.messages.length > 0), { what: 'every gRPC stream to deliver', timeoutMs: 20_000 })

  return {
    async outcome() {
      const [slowStatuses, wsCloseCodes, grpcStatuses] = await Promise.all([
        Promise.all(slow),
        Promise.all(sockets.map((s) => s.closed)),
        Promise.all(streams.map((s) => s.done.then((d) => d.code))),
        Promise.all(idle.map((s) => s.closed)),
      ])
      const outcome: MixedOutcome = { slowStatuses, idleClosed: idle.length, wsCloseCodes, grpcStatuses }
      if (amqpSide && o.requestQueue) {
        const { channel, replies, published } = amqpSide
        const { messageCount } = await channel.checkQueue(o.requestQueue)
        outcome.amqp = {
          published,
          replies: replies.size,
          duplicates: [...replies.values()].filter((n) => n > 1).length,
          leftInQueue: messageCount,
        }
      }
      return outcome
    },
    async cleanup() {
      agent.destroy()
      client.close()
      if (amqpSide && o.requestQueue) {
        await amqpSide.channel.deleteQueue(o.requestQueue).catch(() => undefined)
        await amqpSide.channel.deleteQueue(`${o.requestQueue}.dead`).catch(() => undefined)
        await amqpSide.connection.close().catch(() => undefined)
      }
    },
  }
}
