// Runs a child command, keeping its output for the error message and optionally echoing it.
import { spawn } from 'node:child_process'
import { CommandFailedError } from './errors.ts'

export interface RunOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  /** Called with each output line as it arrives (progress). */
  onLine?: (line: string) => void
}

export function runCommand(command: string, args: string[], options: RunOptions): Promise<{ stdout: string; output: string }> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let output = ''
    let pending = ''
    const take = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString()
      if (isStdout) stdout += text
      output += text
      if (!options.onLine) return
      pending += text
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) if (line.trim()) options.onLine(line)
    }
    child.stdout.on('data', (chunk: Buffer) => take(chunk, true))
    child.stderr.on('data', (chunk: Buffer) => take(chunk, false))
    child.on('error', (error) => rejectRun(new CommandFailedError(`${command} ${args.join(' ')}`, options.cwd, null, error.message)))
    child.on('close', (code) => {
      if (pending.trim() && options.onLine) options.onLine(pending)
      if (code === 0) resolveRun({ stdout, output })
      else rejectRun(new CommandFailedError(`${command} ${args.join(' ')}`, options.cwd, code, output))
    })
  })
}

/**
 * The environment for an npm child. When the generator itself runs under npm (`npx
 * create-armature`, `npm test`), npm exports the calling project's package and workspace
 * settings; passed on, they would make the child act on that project instead of the app.
 */
export function npmChildEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(env)) {
    const lower = key.toLowerCase()
    if (lower.startsWith('npm_package_') || lower.startsWith('npm_lifecycle_')) continue
    if (['npm_config_local_prefix', 'npm_config_workspace', 'npm_config_workspaces', 'npm_config_include_workspace_root', 'init_cwd'].includes(lower)) continue
    clean[key] = value
  }
  return clean
}
