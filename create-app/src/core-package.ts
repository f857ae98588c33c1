// The generated app depends on @armature/core (and, for its tests, @armature/testing)
// through tarballs packed from this repository into the app's vendor/ folder: a relative `file:` path inside the app, so the
// app installs without a registry publish and keeps working when moved or copied.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { CORE_DIR, TESTING_DIR } from './paths.ts'
import { npmChildEnv, runCommand } from './run-command.ts'
import { CreateAppError } from './errors.ts'

export const VENDOR_DIR = 'vendor'

/** Packs core into `<appDir>/vendor` and returns the dependency spec for package.json. */
export function vendorCore(appDir: string): Promise<{ spec: string; file: string }> {
  return vendorPackage(CORE_DIR, appDir)
}

/** Packs @armature/testing (the test helpers and the `armature test` runner) beside core. */
export function vendorTesting(appDir: string): Promise<{ spec: string; file: string }> {
  return vendorPackage(TESTING_DIR, appDir)
}

async function vendorPackage(packageDir: string, appDir: string): Promise<{ spec: string; file: string }> {
  const vendorDir = join(appDir, VENDOR_DIR)
  mkdirSync(vendorDir, { recursive: true })
  const { stdout } = await runCommand('npm', ['pack', '--json', '--pack-destination', vendorDir], { cwd: packageDir, env: npmChildEnv() })
  let filename: string | undefined
  try {
    filename = (JSON.parse(stdout) as Array<{ filename?: string }>)[0]?.filename
  } catch {
    // falls through to the error below with npm's own words
  }
  if (!filename) throw new CreateAppError(`npm pack in ${packageDir} did not report a tarball name: ${stdout.trim().slice(0, 200)}`)
  // npm writes scoped names as `armature-core-<version>.tgz`.
  const file = `${VENDOR_DIR}/${filename}`
  return { spec: `file:${file}`, file }
}
