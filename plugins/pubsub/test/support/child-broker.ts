// A broker in a child kernel on a fixed free port, started again on the same port (and data
// folder) after a kill: the restart tests of the broker and of the client producer.
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnKernel, waitFor, type ChildKernel } from '@armature/testing'

const PLUGIN = join(import.meta.dirname, '../..')

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface ChildBroker {
  url: string
  /** Starts a kernel (again) and resolves once its gRPC port listens. */
  start(): Promise<ChildKernel>
  /** Removes the plugins copy and the data folder. */
  cleanup(): void
}

/** `env` is the kernel's (PUBSUB_STORAGE, PUBSUB_FSYNC, ...); GRPC_PORT and DATA_DIR are set here. */
export async function childBroker(env: Record<string, string>): Promise<ChildBroker> {
  const root = mkdtempSync(join(tmpdir(), 'armature-pubsub-child-'))
  // A plugins folder holding a copy of this plugin only.
  const pluginsDir = join(root, 'plugins')
  cpSync(PLUGIN, join(pluginsDir, 'pubsub'), { recursive: true, filter: (src) => !/[\\/](node_modules|test)([\\/]|$)/.test(src.slice(PLUGIN.length)) })
  const port = await freePort()
  const kernelEnv = { ...env, GRPC_PORT: String(port), DATA_DIR: join(root, 'data') }
  return {
    url: `grpc://127.0.0.1:${port}`,
    start: async () => {
      const child = await spawnKernel({ args: ['--plugins', pluginsDir], env: kernelEnv })
      await waitFor(() => child.messages().some((m) => m.startsWith('grpc listening on ')), { what: 'the grpc port', timeoutMs: 20_000 })
      return child
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  }
}
