// The competitor: fastify with @fastify/http-proxy forwarding everything to UPSTREAM,
// with the plugin's defaults (its undici pool).
import Fastify from 'fastify'
import proxy from '@fastify/http-proxy'

const app = Fastify({ logger: false })
await app.register(proxy, { upstream: process.env.UPSTREAM, prefix: '/' })
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
