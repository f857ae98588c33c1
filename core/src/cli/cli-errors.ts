// Failures a command reports on purpose: one line on stderr, no stack. A UsageError (an
// unknown command or flag, a missing argument) exits 2; any other CliError exits 1.
import { ArmatureError } from '../errors.ts'

export class CliError extends ArmatureError {}

export class UsageError extends CliError {}

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export function exitCodeFor(error: CliError): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE
}
