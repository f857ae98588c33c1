// Named errors: messages name the key, the value and what would be valid.

/** Every kernel error: its `name` is its class's name, set once here. */
export class ArmatureError extends Error {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Invalid configuration: the kernel prints the message as one line and exits 1. */
export class ConfigError extends ArmatureError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`)
  }
}

/** A plugin could not be built, imported or set up; the message names the plugin. */
export class PluginError extends ArmatureError {
  constructor(
    readonly plugin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`plugin '${plugin}': ${message}`, options)
  }
}

/** A plugin's setup threw: the kind of failure an outage of what it needs causes, so it is retried. */
export class SetupError extends PluginError {}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export interface HttpErrorOptions {
  /** The request field at fault, answered beside the message. */
  field?: string
  /** Response headers, e.g. `{ 'retry-after': '5' }`. */
  headers?: Record<string, string>
  cause?: unknown
}

/**
 * A request answered with `status` and JSON `{ error, field? }`: thrown in a plugin's Hono
 * handler, the plugin mount answers it (as it answers any error carrying a numeric 4xx/5xx `status`).
 */
export class HttpError extends ArmatureError {
  readonly field: string | undefined
  readonly headers: Record<string, string> | undefined
  constructor(
    readonly status: number,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    if (!isErrorStatus(status)) throw new TypeError(`HttpError: status ${JSON.stringify(status)} must be an integer from 400 to 599`)
    this.field = options.field
    this.headers = options.headers
  }
}

export function isErrorStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
}
