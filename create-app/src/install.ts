// Installs the generated app's dependencies with npm, echoing npm's lines as progress.
import { npmChildEnv, runCommand } from './run-command.ts'
import type { Progress } from './progress.ts'
import { NPM_INSTALL } from '../../core/src/cli/new-plugin.ts'

export const INSTALL_ARGS = NPM_INSTALL

export async function installDependencies(appDir: string, progress: Progress): Promise<void> {
  await runCommand('npm', INSTALL_ARGS, { cwd: appDir, env: npmChildEnv(), onLine: (line) => progress.detail(line) })
}
