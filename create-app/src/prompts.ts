// Questions asked on a terminal when the command line leaves a choice open.
import * as clack from '@clack/prompts'
import validatePackageName from 'validate-npm-package-name'
import { basename, resolve } from 'node:path'
import { CancelledError } from './errors.ts'
import type { CataloguePlugin } from './catalogue.ts'

/** Prompts only with a terminal on both ends and outside CI; otherwise flags must say it all. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !process.env.CI)
}

export function intro(): void {
  clack.intro('create-armature: a new Armature service')
}

export async function askTargetDir(): Promise<string> {
  const answer = await clack.text({
    message: 'Folder for the new service (its name becomes the package name)',
    placeholder: 'my-service',
    defaultValue: 'my-service',
    validate: (value) => {
      const name = basename(resolve(value || 'my-service'))
      const check = validatePackageName(name)
      return check.validForNewPackages ? undefined : `'${name}': ${[...(check.errors ?? []), ...(check.warnings ?? [])].join('; ')}`
    },
  })
  if (clack.isCancel(answer)) throw new CancelledError()
  return answer
}

export async function askPlugins(catalogue: CataloguePlugin[]): Promise<string[]> {
  const answer = await clack.multiselect({
    message: 'Plugins to include (space toggles, enter confirms)',
    options: catalogue.map((p) => ({ value: p.name, label: p.name, hint: p.description })),
    initialValues: catalogue.some((p) => p.name === 'hello') ? ['hello'] : [],
    required: true,
  })
  if (clack.isCancel(answer)) throw new CancelledError()
  return answer
}
