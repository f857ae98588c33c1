// `armature start` and `armature dev`: boot the kernel and own the process around it.
// SIGINT/SIGTERM stop the kernel in phases (exit 0 when clean); a second signal exits at once.
// An uncaught exception or unhandled rejection leaves the process in an unknown state, so it
// is logged once at fatal and the kernel stops the same graceful way (listeners drain, data is
// flushed), then exits 1; a second fault during that stop exits at once.
import { resolve } from 'node:path'
import { ConfigError, errorMessage } from '../errors.ts'
import type { Kernel } from '../kernel.ts'
import { startKernel } from '../start.ts'
import { parseFlags } from './parse-flags.ts'

/** Past the shutdown deadline plus this, a stop begun by a fault is abandoned and the process exits 1. */
export const FAULT_STOP_GRACE_MS = 2000

export async function start(command: 'start' | 'dev', args: string[]): Promise<number> {
  const { values } = parseFlags(command, args, {
    plugins: { type: 'string' },
    watch: { type: 'boolean' },
    config: { type: 'string' },
  })
  const dev = command === 'dev'
  // Signals and faults are handled from the first moment: a signal during boot stops the kernel once it is up.
  let kernel: Kernel | undefined
  let signals = 0
  let faults = 0
  let stopOnceUp = false
  let resolveExit: (code: number) => void = () => undefined
  const exit = new Promise<number>((resolve) => (resolveExit = resolve))
  const stop = (k: Kernel) =>
    k.stop().then(
      (report) => resolveExit(faults > 0 || !report.ok ? 1 : 0),
      (error) => {
        process.stderr.write(`armature: stop failed: ${errorMessage(error)}\n`)
        resolveExit(1)
      },
    )

  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      kernel?.log.warn(`${signal} again: exiting at once`)
      process.exit(130)
    }
    if (!kernel) {
      stopOnceUp = true
      return
    }
    kernel.log.info(`${signal} received: stopping (send it again to exit at once)`)
    void stop(kernel)
  }

  const onFault = (kind: string, error: unknown) => {
    faults++
    const detail = error instanceof Error ? { err: error } : { reason: error }
    if (!kernel) {
      process.stderr.write(`armature: ${kind} during start-up: ${error instanceof Error ? error.stack : String(error)}\n`)
      process.exit(1)
    }
    if (faults > 1) {
      kernel.log.fatal(detail, `${kind} while stopping after an earlier fault: ${errorMessage(error)}; exiting at once`)
      process.exit(1)
    }
    kernel.log.fatal(detail, `${kind}: ${errorMessage(error)}; stopping, then exiting 1`)
    const bound = kernel.config.shutdown.timeoutMs + FAULT_STOP_GRACE_MS
    setTimeout(() => {
      kernel!.log.fatal(`the stop after the ${kind} did not finish within ${bound} ms; exiting`)
      process.exit(1)
    }, bound).unref()
    // A stop already under way (a signal came first) goes on; its exit code becomes 1.
    void stop(kernel)
  }

  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('uncaughtException', (error) => onFault('uncaught exception', error))
  process.on('unhandledRejection', (reason) => onFault('unhandled rejection', reason))

  try {
    kernel = await startKernel({
      ...(values.config ? { configFile: values.config } : {}),
      overrides: {
        ...(values.plugins ? { pluginsDir: resolve(values.plugins) } : {}),
        ...(values.watch || dev ? { watch: true } : {}),
        dev,
      },
    })
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`armature: config error: ${error.message}\n`)
      return 1
    }
    process.stderr.write(`armature: cannot start: ${errorMessage(error)}\n`)
    return 1
  }
  if (stopOnceUp) {
    kernel.log.info('signal received during start-up: stopping')
    void stop(kernel)
  }
  return exit
}
