import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/hello', async (_req, reply) => reply.type('text/plain; charset=UTF-8').send('hello from generation 1\n'))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
