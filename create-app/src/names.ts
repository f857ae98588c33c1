// Name rule: an app's folder name becomes its npm package name.
import { basename, resolve } from 'node:path'
import validatePackageName from 'validate-npm-package-name'
import { InvalidAppNameError } from './errors.ts'

/** The package name for a target folder; throws when npm would refuse it for a new package. */
export function appNameFor(dir: string): string {
  const name = basename(resolve(dir))
  const validation = validatePackageName(name)
  if (!validation.validForNewPackages) {
    throw new InvalidAppNameError(name, [...(validation.errors ?? []), ...(validation.warnings ?? [])])
  }
  return name
}
