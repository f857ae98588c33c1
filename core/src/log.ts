// One structured logger: readable on a TTY, JSON lines otherwise, always JSON to a file too.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import pino, { type Logger, type DestinationStream } from 'pino'
import pretty from 'pino-pretty'

export interface KernelLog {
  log: Logger
  /** Writes what is buffered; called in the Final phase and before exit. */
  flush(): void
}

export interface LogOptions {
  level: string
  file: string
  /** Readable output (pino-pretty); defaults to whether stdout is a TTY. */
  pretty?: boolean
  /** Level for the terminal stream; the file always gets `level`. */
  terminalLevel?: string
}

export function createLog(options: LogOptions): KernelLog {
  mkdirSync(dirname(options.file), { recursive: true })
  // Sync writes: the file is the record of a shutdown, and the last lines must not be lost at exit.
  const file = pino.destination({ dest: options.file, sync: true, mkdir: true })
  const terminal: DestinationStream = (options.pretty ?? process.stdout.isTTY)
    ? pretty({ colorize: true, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ dest: 1, sync: true })
  const streams = [
    { stream: terminal, level: (options.terminalLevel ?? options.level) as pino.Level },
    { stream: file, level: options.level as pino.Level },
  ]
  const level = options.level === 'silent' ? 'silent' : options.level
  const log = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams))
  return {
    log,
    flush() {
      try {
        file.flushSync()
      } catch {
        // Nothing buffered, or the file is gone: either way there is nothing more to write.
      }
    },
  }
}
