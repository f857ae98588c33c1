// node:util parseArgs, with its refusals turned into UsageErrors that point at the command's help.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './cli-errors.ts'

type Options = NonNullable<ParseArgsConfig['options']>

export function parseFlags<O extends Options>(command: string, args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see armature ${command} --help`)
  }
}
