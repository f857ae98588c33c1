// Where the generator finds its inputs. They live in the Armature checkout the generator
// ships in, so every path is relative to this file, never to the cwd.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url))
export const CORE_DIR = join(REPO_DIR, 'core')
export const TESTING_DIR = join(REPO_DIR, 'testing')
export const PLUGINS_DIR = join(REPO_DIR, 'plugins')
export const APP_TEMPLATE_DIR = join(REPO_DIR, 'templates', 'app')
export const GENERATOR_MANIFEST = join(REPO_DIR, 'create-app', 'package.json')
