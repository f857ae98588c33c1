// create-app: scaffolds a new Armature service, or a blank plugin inside one.
// Exit codes: 0 done, 1 an error reported as one line.
import { isAbsolute, relative, resolve } from 'node:path'
import { parseCommand, USAGE, type AppCommand, type PluginCommand } from './args.ts'
import { readCatalogue, selectPlugins } from './catalogue.ts'
import { settleChoices } from './choices.ts'
import { CreateAppError, UsageError } from './errors.ts'
import { installDependencies, INSTALL_ARGS } from './install.ts'
import { appNameFor, checkPluginName } from './names.ts'
import { createProgress } from './progress.ts'
import { scaffoldApp } from './scaffold-app.ts'
import { scaffoldPlugin } from './scaffold-plugin.ts'
import { CREATE_APP_BIN } from './paths.ts'

const out = (text: string) => void process.stdout.write(text)

async function createApp(command: AppCommand): Promise<void> {
  const catalogue = readCatalogue()
  const choices = await settleChoices(command, catalogue)
  const dir = resolve(choices.dir)
  const name = appNameFor(dir)
  const plugins = selectPlugins(catalogue, choices.pluginNames)
  const progress = createProgress(out)
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
  const cd = displayPath(dir)
  out(`\nCreated ${name} with ${plugins.map((p) => p.name).join(', ')}. Next:\n\n`)
  out(`  cd ${cd}\n`)
  if (!command.install) out('  npm install\n')
  out('  npm start        # http://127.0.0.1:8080/healthz\n')
  out('  npm test         # ends with: N passed, N failed\n')
  out('  npm run dev      # reload plugins on change\n')
  // The app does not depend on the generator, so name the bin this run came from.
  out(`\nAdd a blank plugin from inside the app with: node ${CREATE_APP_BIN} plugin <name>\n`)
}

/** Relative to the cwd when inside it, absolute otherwise (a chain of ../ reads badly). */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel
}

function createPlugin(command: PluginCommand): void {
  if (command.name === undefined) throw new UsageError('create-app plugin needs a name, e.g. create-app plugin notes')
  const name = checkPluginName(command.name)
  const dir = scaffoldPlugin({ name, pluginsDir: resolve(command.dir), force: command.force }, createProgress(out))
  out(`\nCreated plugin ${name} in ${displayPath(dir)}. A running \`npm run dev\` serves it at /${name} now.\n`)
  out(`  npm test -- ${name}   # its wire test\n`)
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv)
  if (command.kind === 'help') out(`${USAGE}\n`)
  else if (command.kind === 'plugin') createPlugin(command)
  else await createApp(command)
  return 0
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof CreateAppError) {
    process.stderr.write(`create-app: ${error.message}\n`)
  } else {
    // Not an expected failure: keep the stack, it is a bug report.
    process.stderr.write(`create-app: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`)
  }
  process.exitCode = 1
}
