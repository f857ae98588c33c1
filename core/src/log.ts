// One structured logger: readable on a TTY, JSON lines otherwise, always JSON to a file too.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import pino, { type Logger, type DestinationStream } from 'pino'
import pretty from 'pino-pretty'

export interface KernelLog {
  log: Logger
  /** Writes what is buffered; called in the Final phase and before exit. */
  flush(): void
  /** Changes the level of the kernel's logger and of every child logger (plugins, generations). */
  setLevel(level: string): void
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

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
  const terminal: DestinationStream =
    (options.pretty ?? process.stdout.isTTY)
      ? pretty({ colorize: true, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ dest: 1, sync: true })
  // The logger's level filters (so it can change at run time); a terminal level of its own is a floor.
  const streams = [
    { stream: terminal, level: (options.terminalLevel ?? 'trace') as pino.Level },
    { stream: file, level: 'trace' as pino.Level },
  ]
  // Child loggers keep the level they were made with; they are followed so a change reaches them.
  const children = new Set<WeakRef<Logger>>()
  const live = (): void => {
    for (const ref of children) if (!ref.deref()) children.delete(ref)
  }
  let pruneAt = 1024
  const follow = (child: Logger): void => {
    children.add(new WeakRef(child))
    // Loggers made per request die young: their refs are dropped once the set has doubled.
    if (children.size >= pruneAt) {
      live()
      pruneAt = Math.max(1024, children.size * 2)
    }
  }
  const log = pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, onChild: follow }, pino.multistream(streams))
  return {
    log,
    setLevel(level) {
      log.level = level
      live()
      for (const ref of children) {
        const child = ref.deref()
        if (child) child.level = level
      }
    },
    flush() {
      try {
        file.flushSync()
      } catch {
        // Nothing buffered, or the file is gone: either way there is nothing more to write.
      }
    },
  }
}
