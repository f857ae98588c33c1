// Every failure the generator reports on purpose. The CLI prints `message` as one line and
// exits 2 for a usage error (an unknown flag, a missing argument), 1 otherwise; anything else
// is a bug and is printed with its stack. The classes are the armature command's, so a plugin
// written through `create-armature plugin` (the kernel's `new plugin`) fails the same way.
import { CliError, exitCodeFor, UsageError } from '../../core/src/cli/cli-errors.ts'

export { CliError, exitCodeFor, UsageError }

/** Base class: errors the user can fix by changing the command or the folder. */
export class CreateAppError extends CliError {
  override name = 'CreateAppError'
}

export class UnknownPluginError extends CreateAppError {
  override name = 'UnknownPluginError'
  constructor(
    readonly unknown: string[],
    readonly available: string[],
  ) {
    super(`unknown plugin${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; available: ${available.join(', ')}`)
  }
}

export class InvalidAppNameError extends CreateAppError {
  override name = 'InvalidAppNameError'
  constructor(
    readonly appName: string,
    problems: string[],
  ) {
    super(`invalid app name '${appName}': ${problems.join('; ')} (the folder name becomes the npm package name: lower case, no spaces, URL-safe)`)
  }
}

/** A chosen plugin `uses` one that is not in the catalogue. */
export class MissingUsedPluginError extends CreateAppError {
  override name = 'MissingUsedPluginError'
  constructor(
    readonly plugin: string,
    readonly used: string,
    available: string[],
  ) {
    super(`plugin '${plugin}' uses '${used}', which is not a shipped plugin; available: ${available.join(', ')}`)
  }
}

/** The target lies inside the Armature checkout the generator runs from. */
export class TargetInsideCheckoutError extends CreateAppError {
  override name = 'TargetInsideCheckoutError'
  constructor(
    readonly target: string,
    readonly checkout: string,
    suggestion: string,
  ) {
    super(
      `${target} is inside the Armature checkout ${checkout}; there the app would resolve packages through the ` +
        `framework's node_modules and hide what it lacks. Create it outside, e.g. ${suggestion}`,
    )
  }
}

export class TargetNotEmptyError extends CreateAppError {
  override name = 'TargetNotEmptyError'
  constructor(readonly target: string) {
    super(`${target} exists and is not empty; choose another folder or pass --force to write into it`)
  }
}

/** Raised without a TTY (or with CI set) when a choice is neither given as a flag nor defaulted by --yes. */
export class MissingChoiceError extends UsageError {
  override name = 'MissingChoiceError'
  constructor(readonly missing: string[]) {
    super(`missing ${missing.join(' and ')}, and no terminal to ask on; ` + 'usage: create-armature <dir> (--plugins a,b,c | --all) [--no-install] [--force] [--yes]')
  }
}

/** A child command (npm pack, npm install) that exited non-zero. */
export class CommandFailedError extends CreateAppError {
  override name = 'CommandFailedError'
  constructor(
    readonly command: string,
    readonly cwd: string,
    readonly code: number | null,
    readonly output: string,
  ) {
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
