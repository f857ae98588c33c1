// POST /echo reads at most HTTP_MAX_BODY_BYTES: a huge chunked body is cut off at the limit
// and never buffered, so the process's peak memory stays where it was.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnKernel } from '@armature/testing'
import { ECHO_DIR } from './support.ts'

const pluginsDir = mkdtempSync(join(tmpdir(), 'echo-plugins-'))
cpSync(ECHO_DIR, join(pluginsDir, 'echo'), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })

/** The peak resident memory of a process so far, in bytes (Linux). */
function peakRss(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(kib![1]) * 1024
}

/** `total` bytes of one JSON string, sent chunked (no Content-Length), made as they are read. */
function hugeJson(total: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(256 * 1024).fill(0x61)
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('{"message":"'))
      if (sent >= total) return controller.close()
      controller.enqueue(chunk)
      sent += chunk.length
    },
  })
}

test('a 300 MB chunked POST /echo is refused with 413 at 1 MiB; peak memory barely moves', async () => {
  const k = await spawnKernel({ args: ['--plugins', pluginsDir], env: { GRPC_PORT: '0' } })
  try {
    // Warm the route so the baseline includes the code paths of a POST.
    const warm = await fetch(`${k.url}/echo`, { method: 'POST', body: '{"message":"hi"}', headers: { 'content-type': 'application/json' } })
    assert.equal(((await warm.json()) as { message: string }).message, 'hi')
    const before = peakRss(k.child.pid!)
    const res = await fetch(`${k.url}/echo`, { method: 'POST', body: hugeJson(300 * 1024 * 1024), headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit)
    assert.is(res.status, 413)
    assert.equal(await res.json(), { error: 'request body exceeds 1048576 bytes (HTTP_MAX_BODY_BYTES)' })
    const grown = peakRss(k.child.pid!) - before
    assert.ok(grown < 128 * 1024 * 1024, `peak RSS grew by ${Math.round(grown / 2 ** 20)} MiB`)
    // The kernel serves on.
    assert.is((await fetch(`${k.url}/echo?message=after`)).status, 200)
  } finally {
    k.child.kill('SIGTERM')
    await k.exited
  }
})

test.run()
