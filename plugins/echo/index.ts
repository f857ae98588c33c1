// The echo plugin: one echo served over HTTP, gRPC, WebSocket and an AMQP request queue.
import { definePlugin, grpc, HttpError, option } from '@armature/core'
import { Hono } from 'hono'
import { EchoInputError, echo, pause } from './src/echo.ts'

export default definePlugin({
  name: 'echo',
  version: '0.1.0',
  description: 'The same echo over HTTP, gRPC (unary, server stream, bidi), WebSocket and an AMQP request queue',
  config: {
    /** Queue the AMQP echo consumes when AMQP_URL is set; replies go to each message's replyTo. */
    requestQueue: 'armature.echo.requests',
    /** Simulated work per AMQP message, in ms. */
    workMs: option.duration(0, { max: 60_000 }),
    /** Longest wait GET /echo/slow accepts, in ms. */
    maxSlowMs: option.duration(60_000, { min: 1 }),
  },
  async setup(ctx) {
    const { generation } = ctx
    let sequence = 0

    const app = new Hono()
      .get('/', (c) => answer(() => echo(c.req.query('message') ?? '', generation, ++sequence)))
      .post('/', async (c) => {
        const body = await ctx.http.readJson(c)
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object like {"message":"hi"}')
        return answer(() => echo((body as { message?: unknown }).message, generation, ++sequence))
      })
      .get('/slow', async (c) => {
        const ms = Number(c.req.query('ms') ?? 1000)
        if (!Number.isInteger(ms) || ms < 0 || ms > ctx.config.maxSlowMs) return c.json({ error: `ms must be an integer 0-${ctx.config.maxSlowMs}` }, 400)
        await pause(ms)
        return answer(() => echo(c.req.query('message') ?? 'slow', generation, ++sequence))
      })
    ctx.http.route(app)

    ctx.ws.route('/ws', (socket) => {
      socket.on('message', (data, isBinary) => {
        try {
          socket.send(JSON.stringify(echo(isBinary ? Buffer.from(data as Buffer).toString('base64') : String(data), generation, ++sequence)))
        } catch (error) {
          socket.send(JSON.stringify({ error: (error as Error).message }))
        }
      })
    })

    const proto = ctx.grpc.load('echo.proto') as any
    ctx.grpc.service(proto.armature.echo.Echo.service, {
      Unary(call: grpc.ServerUnaryCall<{ message: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
        try {
          callback(null, echo(call.request.message, generation, ++sequence))
        } catch (error) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: (error as Error).message })
        }
      },
      async ServerStream(call: grpc.ServerWritableStream<{ message: string; repeat: number; interval_ms: number }, unknown>) {
        const { message, repeat, interval_ms } = call.request
        for (let i = 1; i <= repeat && !call.cancelled && call.writable; i++) {
          call.write(echo(message, generation, i))
          if (i < repeat) await pause(interval_ms, ctx.signal)
        }
        if (call.writable) call.end()
      },
      Bidi(call: grpc.ServerDuplexStream<{ message: string }, unknown>) {
        let i = 0
        call.on('data', (request: { message: string }) => call.write(echo(request.message, generation, ++i)))
        call.on('end', () => call.end())
      },
    })

    if (ctx.amqp.enabled) {
      await ctx.amqp.consume(ctx.config.requestQueue, async (message) => {
        await pause(ctx.config.workMs)
        const reply = echo(message.text(), generation, ++sequence)
        if (message.replyTo) await ctx.amqp.publish(message.replyTo, reply, { correlationId: message.correlationId })
      })
    } else {
      ctx.log.debug('AMQP_URL is not set: the AMQP echo is off')
    }
  },
})

function answer(make: () => unknown): Response {
  try {
    return json(make(), 200)
  } catch (error) {
    if (error instanceof EchoInputError) return json({ error: error.message }, 400)
    throw error
  }
}

// A string body: @hono/node-server writes it out at once. `Response.json()` is the global
// static, whose stream body the server has to read back (about 100 us more per request).
function json(value: unknown, status: number): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } })
}
