// Kernel operations a plugin may call through ctx.ops once it declares them (`operations`):
// the control channel of a plugin such as fdwatch.
import { ConfigError } from './errors.ts'
import { LOG_LEVELS, type KernelLog } from './log.ts'
import type { PluginOperations } from './plugin.ts'

export function kernelOperations(kernel: { logSink: KernelLog; reload: PluginOperations['reload']; plugins: PluginOperations['plugins'] }): PluginOperations {
  const { log } = kernel.logSink
  return {
    reload: kernel.reload,
    setLogLevel(level) {
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError('setLogLevel', `${JSON.stringify(level)} is not a log level (${LOG_LEVELS.join(', ')})`)
      // Said at the old level, so the change is on record even when the new level hides info.
      log.info(`log level set to ${level} (was ${log.level})`)
      kernel.logSink.setLevel(level)
    },
    plugins: kernel.plugins,
  }
}
