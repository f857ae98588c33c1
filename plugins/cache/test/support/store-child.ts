// A store served over HTTP in its own process, for kill -9 tests and the benchmark.
// argv: <dataDir> <fsync policy>. Prints `listening <port>` when ready.
import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { Cache } from '../../src/cache.ts'
import { createApp } from '../../src/controllers/app.ts'
import { parseFsyncPolicy } from '../../src/fsync-policy.ts'
// The reader's own module (@armature/core/body), not the package's entry: this child is bundled,
// and the whole kernel would come along.
import { readJson } from '@armature/core/body'

const [dataDir, policy] = process.argv.slice(2)
if (!dataDir) throw new Error('usage: store-child.ts <dataDir> <always|everysec|no>')
const cache = await Cache.open({
  dataDir,
  fsync: parseFsyncPolicy(policy ?? 'always'),
  snapshotEveryMs: Number(process.env.SNAPSHOT_EVERY_MS ?? 200),
  dumpEveryMs: 0,
})
const server = serve({ fetch: createApp(cache, { readJson: (c) => readJson(c, { maxBytes: 65536 }) }).fetch, port: 0, hostname: '127.0.0.1' })
server.once('listening', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`))
