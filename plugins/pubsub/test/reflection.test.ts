// Stock gRPC tools find the broker through server reflection, as `grpcurl list` and
// `grpcurl describe armature.pubsub.Pubsub` ask for it: the service is listed, and its file
// descriptor (with the message types its methods use) is served, and a client built from the
// reflected descriptors alone (as grpcurl builds one) produces a record.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { startTestKernel, waitFor } from '@armature/testing'
import protobuf from 'protobufjs'
import descriptor from 'protobufjs/ext/descriptor/index.js'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const k = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })

test('reflection lists armature.pubsub.Pubsub and describes it with its messages', async () => {
  const protos = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto')
  const definition = loadSync('grpc/reflection/v1/reflection.proto', { keepCase: true, defaults: true, includeDirs: [protos] })
  const Reflection = (grpc.loadPackageDefinition(definition) as any).grpc.reflection.v1.ServerReflection
  const client = new Reflection(`127.0.0.1:${k.kernel.addresses.grpc}`, grpc.credentials.createInsecure())
  const call = client.ServerReflectionInfo()
  const answers: any[] = []
  call.on('data', (answer: any) => answers.push(answer))
  call.on('error', () => undefined)
  try {
    call.write({ list_services: '' })
    await waitFor(() => answers.length === 1, { what: 'the service list' })
    const names = answers[0].list_services_response.service.map((s: { name: string }) => s.name)
    assert.ok(names.includes('armature.pubsub.Pubsub'), names.join(', '))
    call.write({ file_containing_symbol: 'armature.pubsub.Pubsub' })
    await waitFor(() => answers.length === 2, { what: 'the descriptor' })
    const files: Buffer[] = answers[1].file_descriptor_response?.file_descriptor_proto ?? []
    assert.ok(files.length >= 1, JSON.stringify(answers[1].error_response))
    // The serialized FileDescriptorProto names the service, its methods and their messages.
    const text = Buffer.concat(files).toString('latin1')
    for (const name of ['Pubsub', 'ProduceStream', 'Subscribe', 'ProduceRequest', 'SubscribeReply', 'FetchReply']) assert.ok(text.includes(name), `descriptor holds ${name}`)
    call.write({ file_containing_symbol: 'armature.pubsub.ProduceRequest' })
    await waitFor(() => answers.length === 3, { what: 'the message descriptor' })
    assert.ok(answers[2].file_descriptor_response, 'a message type resolves too (grpcurl describe armature.pubsub.ProduceRequest)')

    // What grpcurl then does: build the types from the reflected descriptors alone and call a method.
    const set = { file: files.map((bytes) => descriptor.FileDescriptorProto.decode(bytes)) }
    // The descriptor extension adds Root.fromDescriptor at run time; its typings do not declare it.
    const root = (protobuf.Root as unknown as { fromDescriptor(set: unknown): protobuf.Root }).fromDescriptor(set)
    const method = root.lookupService('armature.pubsub.Pubsub').methods.Produce!.resolve() as protobuf.Method
    const [Request, Reply] = [method.resolvedRequestType!, method.resolvedResponseType!]
    const raw = new grpc.Client(`127.0.0.1:${k.kernel.addresses.grpc}`, grpc.credentials.createInsecure())
    const reply = await new Promise<any>((resolve, reject) =>
      raw.makeUnaryRequest(
        '/armature.pubsub.Pubsub/Produce',
        (value: object) => Buffer.from(Request.encode(Request.fromObject(value)).finish()),
        (bytes: Buffer) => Reply.toObject(Reply.decode(bytes), { longs: Number }),
        { topic: 'reflected', records: [{ value: Buffer.from('through reflection') }] },
        (error, value) => (error ? reject(error) : resolve(value)),
      ),
    )
    raw.close()
    assert.equal(reply.offsets, [{ partition: 0, offset: 0 }])
    const broker = k.kernel.slots.get('pubsub')!.current!.api as Broker
    assert.is((await broker.fetch('reflected', 0, 0)).records[0]!.value.toString(), 'through reflection')
  } finally {
    call.end()
    client.close()
  }
})

test.after(async () => {
  await k.stop()
})

test.run()
