// Named errors: messages name the key, the value and what would be valid.

/** Invalid configuration: the kernel prints the message as one line and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`)
  }
}

/** A plugin could not be built, imported or set up; the message names the plugin. */
export class PluginError extends Error {
  override name = 'PluginError'
  constructor(
    readonly plugin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`plugin '${plugin}': ${message}`, options)
  }
}

/** A plugin's setup threw: the kind of failure an outage of what it needs causes, so it is retried. */
export class SetupError extends PluginError {
  override name = 'SetupError'
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
