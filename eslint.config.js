// ESLint for the whole repository (`npm run lint`). Layout is prettier's job (.prettierrc.json);
// these rules catch mistakes and hold the house style that prettier cannot see.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/.armature/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: {
      // `_`-named bindings are deliberately unused (`for (const _ of list)`), and `{ KEY: _, ...env }`
      // copies an object without one key.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `catch {}` after a fallback already set before `try` (text kept when it is not JSON).
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Object literals with getters and named inner functions built inside a class reach its `#`
      // fields through a named alias (`const port = this`); arrow functions cannot be getters.
      '@typescript-eslint/no-this-alias': 'off',
      // Private members are `#` fields, enforced at runtime. `private constructor` stays: a factory-only
      // class has no `#` spelling for it. `protected` stays too: `#` members do not reach subclasses.
      'no-restricted-syntax': [
        'error',
        { selector: 'TSParameterProperty[accessibility="private"]', message: 'Use a `#` field assigned in the constructor, not a `private` parameter property.' },
        { selector: ':matches(PropertyDefinition, TSAbstractPropertyDefinition)[accessibility="private"]', message: 'Use a `#` field, not `private`.' },
        { selector: 'MethodDefinition[accessibility="private"][kind!="constructor"]', message: 'Use a `#` method, not `private`.' },
      ],
    },
  },
  {
    // grpc-js call, callback and handler types, hono's Hono/Context/MiddlewareHandler and the
    // PluginDefinition/OptionSpec config generics are invariant in their type parameters. The kernel
    // serves every plugin's services, apps and config shapes, so `any` is the one argument that
    // accepts all of them; proto-loaded packages (loadPackageDefinition) are untyped by nature.
    files: [
      'core/src/config-shape.ts',
      'core/src/generation.ts',
      'core/src/http/body.ts',
      'core/src/servers/http-mount.ts',
      'core/src/lifecycle.ts',
      'core/src/loader.ts',
      'core/src/plugin.ts',
      'core/src/servers/grpc.ts',
      'core/src/servers/grpc-stream-cap.ts',
      'core/src/tracing/grpc.ts',
      'plugins/echo/index.ts',
      'bench/grpc/run.ts',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Rules that need types: a promise nobody awaits or catches, a promise where a callback's
    // return is ignored, an await on a value that is not one, a throw of something not an Error.
    files: ['core/src/**/*.ts', 'testing/src/**/*.ts', 'create-app/src/**/*.ts', 'plugins/*/index.ts', 'plugins/*/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    // Tests read wire JSON and drive proto-loaded gRPC clients; the assertions check those shapes.
    files: ['**/test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The console page's script runs in the browser, not in Node.
    files: ['core/src/console/console.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
)
