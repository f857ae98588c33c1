// Consumer child processes (tsx running consumer-process.ts) and the history of what they did,
// in the order their lines reached this process.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { ConsumerProcessConfig } from './consumer-process.ts'
import type { ConsumerEvent } from './history-checker.ts'

export interface ConsumerLine {
  consumer: number
  e: string
  t: number
  topic?: string
  partition?: number
  offset?: number
  value?: string
  deliveries?: number
  offsets?: Array<{ topic: string; partition: number; offset: number }>
  error?: string
  memberId?: string
}

export interface ChildConsumer {
  id: number
  child: ChildProcess
  lines: ConsumerLine[]
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves when a line matching `check` arrived (or rejects after timeoutMs). */
  until(check: (line: ConsumerLine) => boolean, what: string, timeoutMs?: number): Promise<ConsumerLine>
}

const SCRIPT = join(import.meta.dirname, 'consumer-process.ts')

export class Fleet {
  readonly history: ConsumerLine[] = []
  readonly children: ChildConsumer[] = []
  #next = 1

  spawn(config: ConsumerProcessConfig): ChildConsumer {
    const id = this.#next++
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: { ...process.env, CONSUMER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines: ConsumerLine[] = []
    const waiters = new Set<{ check: (line: ConsumerLine) => boolean; resolve: (line: ConsumerLine) => void }>()
    let buffer = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk
      const parts = buffer.split('\n')
      buffer = parts.pop()!
      for (const part of parts) {
        let parsed: ConsumerLine
        try {
          parsed = { ...JSON.parse(part), consumer: id }
        } catch {
          continue
        }
        lines.push(parsed)
        this.history.push(parsed)
        for (const w of waiters) {
          if (w.check(parsed)) {
            waiters.delete(w)
            w.resolve(parsed)
          }
        }
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
    const until = (check: (line: ConsumerLine) => boolean, what: string, timeoutMs = 20_000) =>
      new Promise<ConsumerLine>((resolve, reject) => {
        const seen = lines.find(check)
        if (seen) return resolve(seen)
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`consumer ${id}: timed out waiting for ${what}\nstderr: ${stderr.slice(-2000)}`))
        }, timeoutMs)
        const waiter = {
          check,
          resolve: (line: ConsumerLine) => {
            clearTimeout(timer)
            resolve(line)
          },
        }
        waiters.add(waiter)
      })
    const consumer: ChildConsumer = { id, child, lines, stderr: () => stderr, exited, until }
    this.children.push(consumer)
    return consumer
  }

  /** Stops every child still running (SIGKILL: the test is over). */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL')
        await c.exited
      }),
    )
  }
}

/** The fleet's history as the checker reads it (one topic). */
export function checkerEvents(history: readonly ConsumerLine[]): ConsumerEvent[] {
  const events: ConsumerEvent[] = []
  for (const l of history) {
    if (l.e === 'assigned') events.push({ consumer: l.consumer, e: 'assigned', partition: l.partition!, offset: l.offset!, t: l.t })
    else if (l.e === 'read') events.push({ consumer: l.consumer, e: 'read', partition: l.partition!, offset: l.offset!, value: l.value!, t: l.t })
    else if (l.e === 'commit') events.push({ consumer: l.consumer, e: 'commit', offsets: l.offsets!.map((o) => ({ partition: o.partition, offset: o.offset })), t: l.t })
    else if (l.e === 'revoked' || l.e === 'lost') events.push({ consumer: l.consumer, e: l.e, partition: l.partition!, t: l.t })
  }
  return events
}
