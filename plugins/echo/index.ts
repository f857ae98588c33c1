// The echo plugin: one echo served over HTTP, gRPC, WebSocket and an AMQP request queue.
import { definePlugin, grpc, HttpError, option } from '@armature/core'
import { Hono } from 'hono'
import { EchoInputError, echo, overLimit, pause } from './src/echo.ts'

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
    /** Most replies one ServerStream call may ask for. */
    maxRepeat: option.int(100_000, { min: 1 }),
    /** Longest ServerStream interval_ms, in ms (at most setTimeout's longest wait). */
    maxIntervalMs: option.duration(60_000, { max: 2_147_483_647 }),
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
        let reply: string
        try {
          reply = JSON.stringify(echo(isBinary ? Buffer.from(data as Buffer).toString('base64') : String(data), generation, ++sequence))
        } catch (error) {
          reply = JSON.stringify({ error: (error as Error).message })
        }
        // Not awaited: replies keep pace with requests, and a client that stops reading is
        // closed by the kernel (1008, WS_MAX_BUFFERED_BYTES).
        ctx.ws.send(socket, reply).catch(gone)
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
        const refused =
          overLimit('repeat', repeat, ctx.config.maxRepeat, 'ECHO_MAX_REPEAT') ??
          overLimit('interval_ms', interval_ms, ctx.config.maxIntervalMs, 'ECHO_MAX_INTERVAL_MS') ??
          inputError(() => echo(message, generation))
        if (refused) return void call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: refused })
        // A wait between replies ends early when the call does or the plugin stops.
        const over = new AbortController()
        const stop = () => over.abort()
        call.once('close', stop)
        ctx.signal.addEventListener('abort', stop, { once: true })
        try {
          for (let i = 1; i <= repeat && !over.signal.aborted; i++) {
            // Waits while the client is not reading; rejects (ending this handler) once the call is over.
            await ctx.grpc.write(call, echo(message, generation, i))
            if (i < repeat) await pause(interval_ms, over.signal)
          }
        } finally {
          ctx.signal.removeEventListener('abort', stop)
        }
        if (call.destroyed) return
        if (ctx.signal.aborted) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the echo plugin is stopping' })
        else call.end()
      },
      Bidi(call: grpc.ServerDuplexStream<{ message: string }, unknown>) {
        let i = 0
        call.on('data', (request: { message: string }) => {
          let reply
          try {
            reply = echo(request.message, generation, ++i)
          } catch (error) {
            return void call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: (error as Error).message })
          }
          // Not awaited: replies keep pace with requests, and a client that stops reading is
          // ended by the kernel (RESOURCE_EXHAUSTED, GRPC_MAX_BUFFERED_BYTES).
          ctx.grpc.write(call, reply).catch(gone)
        })
        call.on('end', () => call.end())
      },
    })

    if (ctx.queue.enabled) {
      await ctx.queue.consume(ctx.config.requestQueue, async (message) => {
        await pause(ctx.config.workMs)
        const reply = echo(message.text(), generation, ++sequence)
        if (message.replyTo) await ctx.queue.publish(message.replyTo, reply, { correlationId: message.correlationId })
      })
    } else {
      ctx.log.debug('AMQP_URL is not set: the AMQP echo is off')
    }
  },
})

/** For a reply not awaited: its rejection (StreamClosedError) only says the peer is gone. */
function gone(): void {}

/** The message of an EchoInputError `make` throws, or undefined. */
function inputError(make: () => unknown): string | undefined {
  try {
    make()
    return undefined
  } catch (error) {
    if (error instanceof EchoInputError) return error.message
    throw error
  }
}

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
