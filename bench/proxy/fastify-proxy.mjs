// The competitor: fastify with @fastify/http-proxy forwarding everything to UPSTREAM,
// with the plugin's defaults (its undici pool); HTTPS when TLS_CERT and TLS_KEY name files.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import proxy from '@fastify/http-proxy'

const { TLS_CERT, TLS_KEY } = process.env
const https = TLS_CERT && TLS_KEY ? { cert: readFileSync(TLS_CERT), key: readFileSync(TLS_KEY) } : undefined
const app = Fastify({ logger: false, ...(https ? { https } : {}) })
await app.register(proxy, { upstream: process.env.UPSTREAM, prefix: '/' })
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
