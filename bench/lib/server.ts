// Starts a server in a child process and waits until a URL answers, so each contender
// has a process (and an event loop) of its own.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, fetch as undiciFetch } from 'undici'

export interface RunningServer {
  child: ChildProcess
  url: string
  stop(): Promise<void>
}

/** `ca`: the CA that signed an https `url`'s certificate, for the readiness check. */
export async function startServer(command: string[], url: string, env: Record<string, string> = {}, cwd?: string, ca?: string): Promise<RunningServer> {
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'], ...(cwd ? { cwd } : {}) })
  const deadline = Date.now() + 30_000
  const dispatcher = ca ? new Agent({ connect: { ca } }) : undefined
  for (;;) {
    try {
      const response = await undiciFetch(url, dispatcher ? { dispatcher } : {})
      await response.arrayBuffer()
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${child.exitCode}`)
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 30 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
  await dispatcher?.close()
  return {
    child,
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks / 100
}
