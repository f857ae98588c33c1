// The help text of each `armature` command.
export const HELP: Record<string, string> = {
  main: `Usage: armature <command> [options]

Commands:
  start        run the kernel with the plugins in the drop-in folder
  dev          start with watching and a local HTTPS certificate
  plugins      list the plugins of a running kernel
  test         run every test/*.test.ts of the project and its workspaces
  new plugin   write a blank plugin into the drop-in folder
  <plugin>     a plugin's own commands (e.g. armature cache ls)

Run armature <command> --help for a command's options; armature --version prints the version.
Exit codes: 0 done, 1 failed, 2 usage error.`,
  start: `Usage: armature start [--plugins DIR] [--watch] [--config FILE]

  --plugins DIR   the drop-in folder (default ./plugins, env PLUGINS_DIR)
  --watch         reload a plugin when its files change
  --config FILE   config file (default armature.config.json or .ts in the current folder)

Environment: PORT, HOST, HTTPS_PORT, TLS_CERT, TLS_KEY, ADMIN_TOKEN, LOG_LEVEL, LOG_FILE,
DATA_DIR, SHUTDOWN_TIMEOUT_MS, and <PLUGIN>_<OPTION> for plugin options.
An uncaught exception or unhandled rejection is logged at fatal, then the kernel stops
gracefully and exits 1.`,
  dev: `Usage: armature dev [--plugins DIR] [--config FILE]

Like start --watch, plus HTTPS on HTTPS_PORT (default 8443) with a certificate signed by a
local CA created on first start under .armature/tls (trust .armature/tls/ca.pem).`,
  test: `Usage: armature test [FILTER...]

Runs test/*.test.ts of the project and of each npm workspace (plugins/*, ...), one process
per file with uvu and tsx, a few at a time; ends with one line: N passed, N failed. A FILTER
keeps the files whose path contains it. Env: TEST_CONCURRENCY, TEST_FILE_TIMEOUT_MS.`,
  plugins: `Usage: armature plugins [--url URL] [--json]

Lists the plugins of a running kernel (default URL http://127.0.0.1:$PORT or :8080).`,
  new: `Usage: armature new plugin <name> [--dir DIR] [--force] [--no-install]

Writes a blank plugin (an index.ts with one route at /<name>, src/, a wire test, a README
and a package.json) into DIR/<name>; a running armature dev serves it at once.

  --dir DIR      the drop-in folder (default ./plugins, env PLUGINS_DIR)
  --force        write into a folder that is not empty
  --no-install   do not run npm install afterwards

When DIR is an npm workspace of the project above it (a generated app), the plugin's
dependencies are added to the project's package.json, and npm install runs there so
package-lock.json lists the new workspace (npm ci refuses a lock file without it).`,
}
