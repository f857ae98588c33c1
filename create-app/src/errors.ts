// Every failure the generator reports on purpose. The CLI prints `message` as one line and
// exits 1; anything else is a bug and is printed with its stack.

/** Base class: errors the user can fix by changing the command or the folder. */
export class CreateAppError extends Error {
  override name = 'CreateAppError'
}

/** A flag or argument the parser does not accept. */
export class UsageError extends CreateAppError {
  override name = 'UsageError'
}

export class UnknownPluginError extends CreateAppError {
  override name = 'UnknownPluginError'
  constructor(readonly unknown: string[], readonly available: string[]) {
    super(`unknown plugin${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; available: ${available.join(', ')}`)
  }
}

export class InvalidAppNameError extends CreateAppError {
  override name = 'InvalidAppNameError'
  constructor(readonly appName: string, problems: string[]) {
    super(`invalid app name '${appName}': ${problems.join('; ')} (the folder name becomes the npm package name: lower case, no spaces, URL-safe)`)
  }
}

export class InvalidPluginNameError extends CreateAppError {
  override name = 'InvalidPluginNameError'
  constructor(readonly pluginName: string) {
    super(`invalid plugin name '${pluginName}'; plugin names match [a-z0-9-]+ (for example 'notes' or 'rate-limit')`)
  }
}

export class TargetNotEmptyError extends CreateAppError {
  override name = 'TargetNotEmptyError'
  constructor(readonly target: string) {
    super(`${target} exists and is not empty; choose another folder or pass --force to write into it`)
  }
}

/** Raised without a TTY (or with CI set) when a choice is neither given as a flag nor defaulted by --yes. */
export class MissingChoiceError extends CreateAppError {
  override name = 'MissingChoiceError'
  constructor(readonly missing: string[]) {
    super(
      `missing ${missing.join(' and ')}, and no terminal to ask on; ` +
        'usage: create-app <dir> (--plugins a,b,c | --all) [--no-install] [--force] [--yes]',
    )
  }
}

/** A child command (npm pack, npm install) that exited non-zero. */
export class CommandFailedError extends CreateAppError {
  override name = 'CommandFailedError'
  constructor(readonly command: string, readonly cwd: string, readonly code: number | null, readonly output: string) {
    const lastLine = output.trim().split('\n').at(-1) ?? ''
    super(`'${command}' failed in ${cwd} (exit ${code})${lastLine ? `: ${lastLine}` : ''}`)
  }
}

/** The user pressed Ctrl-C or Escape at a prompt. */
export class CancelledError extends CreateAppError {
  override name = 'CancelledError'
  constructor() {
    super('cancelled; nothing was written')
  }
}
