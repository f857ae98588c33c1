// Name rules: an app's folder name becomes its npm package name; a plugin's folder name
// becomes its run-time name, which the kernel restricts to [a-z0-9-]+.
import { basename, resolve } from 'node:path'
import validatePackageName from 'validate-npm-package-name'
import { InvalidAppNameError, InvalidPluginNameError } from './errors.ts'

// The kernel's own rule (PLUGIN_NAME in @armature/core); repeated here so the generator
// starts without loading the kernel.
const PLUGIN_NAME = /^[a-z0-9-]+$/

/** The package name for a target folder; throws when npm would refuse it for a new package. */
export function appNameFor(dir: string): string {
  const name = basename(resolve(dir))
  const validation = validatePackageName(name)
  if (!validation.validForNewPackages) {
    throw new InvalidAppNameError(name, [...(validation.errors ?? []), ...(validation.warnings ?? [])])
  }
  return name
}

export function checkPluginName(name: string): string {
  if (!PLUGIN_NAME.test(name)) throw new InvalidPluginNameError(name)
  return name
}
