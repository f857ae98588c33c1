// The competitor: a bare grpc-js server with the echo proto and the echo plugin's Unary
// handler, loaded with the kernel's proto-loader options.
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

const proto = join(import.meta.dirname, '../../plugins/echo/proto/echo.proto')
const definition = loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
const { Echo } = grpc.loadPackageDefinition(definition).armature.echo
const MAX_MESSAGE_LENGTH = 64 * 1024
let sequence = 0

const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 })
server.addService(Echo.service, {
  Unary(call, callback) {
    const { message } = call.request
    if (typeof message !== 'string' || message.length > MAX_MESSAGE_LENGTH) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'bad message' })
    callback(null, { message, generation: 1, sequence: ++sequence })
  },
})
server.bindAsync(`127.0.0.1:${process.env.GRPC_PORT}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error
  console.log(`grpc listening on 127.0.0.1:${port}`)
})
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)))
