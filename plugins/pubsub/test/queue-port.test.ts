// The kernel's queue port suite on the pubsub backend (the broker in the kernel's process),
// plus what only this backend does.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { queuePortSuite, startTestKernel, waitFor } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')

// The suite's kernels must share the backend's storage (its stop test hands the queue to the next
// kernel): file storage in one data folder. Memory storage runs the same broker code; reloads keep
// it through ctx.keep, which the suite's reload tests check on file storage as well.
const dataDir = mkdtempSync(join(tmpdir(), 'armature-pubsub-port-'))
let shared: Broker | undefined
queuePortSuite(
  (plugins) => startTestKernel({ plugins: [PLUGIN, ...plugins], env: { GRPC_PORT: '0', DATA_DIR: dataDir, PUBSUB_STORAGE: 'file', PUBSUB_QUEUE_RETRY_DELAY_MS: '200' } }),
  {
    backend: 'pubsub',
    provider: 'pubsub',
  },
).run()

test('a kernel without AMQP_URL serves ctx.queue from pubsub; /_armature/plugins names it', async () => {
  const k = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
  try {
    const described = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { queue: Record<string, unknown> }
    assert.is(described.queue.backend, 'pubsub')
    assert.is(described.queue.selectedBy, 'plugin pubsub')
    shared = k.kernel.slots.get('pubsub')!.current!.api as Broker
    await waitFor(() => shared!.describe().storage === 'memory', { what: 'the broker' })
  } finally {
    await k.stop()
  }
})

test.run()
