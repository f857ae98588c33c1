// gRPC across reloads: the server never restarts; a method the new code drops answers UNIMPLEMENTED.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { startTestKernel, waitFor } from '@armature/testing'
import { pluginsFolder } from './support.ts'

const proto = (methods: string[]) => `syntax = "proto3";
package test.greet;
service Greeter {
${methods.map((m) => `  rpc ${m} (Req) returns (Rep);`).join('\n')}
}
message Req { string name = 1; }
message Rep { string text = 1; }
`

const plugin = (methods: string[], tag: string) => `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'greet', setup(ctx) {
  const pkg = ctx.grpc.load('greet.proto') as any
  ctx.grpc.service(pkg.test.greet.Greeter.service, {
${methods.map((m) => `    ${m}(call: any, cb: any) { cb(null, { text: '${tag} ${m} ' + call.request.name }) },`).join('\n')}
  })
} })
`

function write(dir: string, methods: string[], tag: string) {
  mkdirSync(join(dir, 'greet/proto'), { recursive: true })
  writeFileSync(join(dir, 'greet/proto/greet.proto'), proto(methods))
  writeFileSync(join(dir, 'greet/index.ts'), plugin(methods, tag))
}

test('a reload swaps gRPC handlers in place; a dropped method answers UNIMPLEMENTED', async () => {
  const dir = pluginsFolder()
  write(dir, ['Hello', 'Bye'], 'v1')
  const k = await startTestKernel({ pluginsDir: dir, env: { GRPC_PORT: '0' }, overrides: { watch: true } })
  const definition = loadSync(join(dir, 'greet/proto/greet.proto'), { keepCase: true, defaults: true })
  const Greeter = (grpc.loadPackageDefinition(definition) as any).test.greet.Greeter
  const client = new Greeter(`127.0.0.1:${k.kernel.addresses.grpc}`, grpc.credentials.createInsecure())
  const call = (method: string) =>
    new Promise<string | number>((resolve) => client[method]({ name: 'ann' }, (error: grpc.ServiceError | null, reply: any) => resolve(error ? error.code : reply.text)))
  try {
    assert.is(await call('Hello'), 'v1 Hello ann')
    assert.is(await call('Bye'), 'v1 Bye ann')
    const port = k.kernel.addresses.grpc
    write(dir, ['Hello'], 'v2')
    await waitFor(async () => (await call('Hello')) === 'v2 Hello ann', { what: 'v2 to serve' })
    assert.is(await call('Bye'), grpc.status.UNIMPLEMENTED)
    assert.is(k.kernel.addresses.grpc, port)
    write(dir, ['Hello', 'Bye'], 'v3')
    await waitFor(async () => (await call('Bye')) === 'v3 Bye ann', { what: 'Bye to come back' })
  } finally {
    client.close()
    await k.stop()
  }
})

test.run()
