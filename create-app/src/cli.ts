// create-armature (also installed as create-app): scaffolds a new Armature service, or a
// blank plugin inside one. Exit codes: 0 done, 1 an error reported as one line, 2 a usage
// error (an unknown flag, a missing argument).
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseCommand, USAGE, type AppCommand } from './args.ts'
import { readCatalogue, selectPlugins, withUsedPlugins } from './catalogue.ts'
import { settleChoices } from './choices.ts'
import { CliError, CreateAppError, exitCodeFor } from './errors.ts'
import { installDependencies, INSTALL_ARGS } from './install.ts'
import { appNameFor } from './names.ts'
import { createProgress } from './progress.ts'
import { scaffoldApp } from './scaffold-app.ts'
import { GENERATOR_MANIFEST } from './paths.ts'
import { displayPath } from '../../core/src/cli/display-path.ts'
import { newCommand } from '../../core/src/cli/new-plugin.ts'

const out = (text: string) => void process.stdout.write(text)

async function createApp(command: AppCommand): Promise<void> {
  const catalogue = readCatalogue()
  const choices = await settleChoices(command, catalogue)
  const dir = resolve(choices.dir)
  const name = appNameFor(dir)
  const { plugins, added } = withUsedPlugins(catalogue, selectPlugins(catalogue, choices.pluginNames))
  const progress = createProgress(out)
  for (const [used, by] of added) progress.step(`adding ${used}, which ${by.join(' and ')} ${by.length === 1 ? 'uses' : 'use'}`)
  await scaffoldApp({ dir, name, plugins, force: command.force }, progress)

  if (command.install) {
    progress.step(`installing dependencies (npm ${INSTALL_ARGS.join(' ')})`)
    try {
      await installDependencies(dir, progress)
    } catch (error) {
      if (!(error instanceof CreateAppError)) throw error
      throw new CreateAppError(`${error.message} (the files are written; fix the cause and run npm install in ${displayPath(dir)})`)
    }
    progress.done('installed')
  }
  out(`\nCreated ${name} with ${plugins.map((p) => p.name).join(', ')}. Next:\n\n`)
  out(`  cd ${displayPath(dir)}\n`)
  if (!command.install) out('  npm install\n')
  out('  npm start        # http://127.0.0.1:8080/healthz\n')
  out('  npm test         # ends with: N passed, N failed\n')
  out('  npm run dev      # reload plugins on change\n')
  out('\nAdd a blank plugin from inside the app with: npx armature new plugin <name>\n')
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv)
  if (command.kind === 'help') out(`${USAGE}\n`)
  else if (command.kind === 'version') out(`${(JSON.parse(readFileSync(GENERATOR_MANIFEST, 'utf8')) as { version: string }).version}\n`)
  else if (command.kind === 'plugin') return newCommand(['plugin', ...command.args])
  else await createApp(command)
  return 0
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`create-armature: ${error.message}\n`)
    process.exitCode = exitCodeFor(error)
  } else {
    // Not an expected failure: keep the stack, it is a bug report.
    process.stderr.write(`create-armature: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`)
    process.exitCode = 1
  }
}
