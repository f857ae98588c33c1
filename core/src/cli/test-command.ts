// `armature test [FILTER...]`: the runner lives in @armature/testing, a dev dependency, so a
// production install has none and says how to get it.
import { CliError, UsageError } from './cli-errors.ts'

type RunTests = (options: { root: string; filter?: string[]; concurrency?: number; fileTimeoutMs?: number }) => Promise<{ files: number; failed: number }>

export async function testCommand(args: string[]): Promise<number> {
  const flag = args.find((a) => a.startsWith('-'))
  if (flag) throw new UsageError(`test takes path filters, not '${flag}'; see armature test --help`)
  const runTests = await testRunner()
  const result = await runTests({
    root: process.cwd(),
    filter: args,
    ...(process.env.TEST_CONCURRENCY ? { concurrency: Number(process.env.TEST_CONCURRENCY) } : {}),
    ...(process.env.TEST_FILE_TIMEOUT_MS ? { fileTimeoutMs: Number(process.env.TEST_FILE_TIMEOUT_MS) } : {}),
  })
  return result.failed || result.files === 0 ? 1 : 0
}

async function testRunner(): Promise<RunTests> {
  try {
    return (await import('@armature/testing' as string)).runTests
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((error as Error).message).includes('@armature/testing')) throw error
    throw new CliError('armature test needs @armature/testing: install it with npm install --save-dev @armature/testing')
  }
}
