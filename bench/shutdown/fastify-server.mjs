// The competitor: fastify with @fastify/websocket serving the echo plugin's HTTP slow route
// and WebSocket echo; on SIGTERM it awaits app.close() and exits.
import Fastify from 'fastify'
import websocket from '@fastify/websocket'

let sequence = 0
const app = Fastify({ logger: false })
await app.register(websocket)
app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok'))
app.get('/echo/slow', async (req) => {
  const ms = Number(req.query.ms ?? 1000)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { message: req.query.message ?? 'slow', generation: 1, sequence: ++sequence }
})
app.get('/echo/ws', { websocket: true }, (socket) => {
  socket.on('message', (data) => socket.send(JSON.stringify({ message: String(data), generation: 1, sequence: ++sequence })))
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.once('SIGTERM', async () => {
  await app.close()
  process.exit(0)
})
