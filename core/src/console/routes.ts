// The console page at /_armature/: a static page, stylesheet and script read once from this
// folder, plus the shutdown plan it shows. The page only reads the kernel's public JSON and
// /metrics; a reload it asks for goes to the admin route with the token the user types.
import { readFileSync } from 'node:fs'
import { Hono } from 'hono'

export const CONSOLE_PATH = '/_armature/'

// Nothing but these files and same-origin fetches: no inline script or style, no frames.
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
}

const FILES: Array<[path: string, file: string, type: string]> = [
  [CONSOLE_PATH, 'page.html', 'text/html; charset=utf-8'],
  [`${CONSOLE_PATH}console.css`, 'console.css', 'text/css; charset=utf-8'],
  [`${CONSOLE_PATH}console.js`, 'console.js', 'text/javascript; charset=utf-8'],
]

const bodies = FILES.map(([, file]) => readFileSync(new URL(file, import.meta.url), 'utf8'))

export function consoleRoutes(kernel: { stopPlan(): unknown }): Hono {
  const app = new Hono()
  FILES.forEach(([path, , type], i) => app.get(path, (c) => c.body(bodies[i]!, 200, { 'content-type': type, ...HEADERS })))
  app.get('/_armature', (c) => c.redirect(CONSOLE_PATH, 302))
  app.get(`${CONSOLE_PATH}shutdown-plan`, (c) => c.json(kernel.stopPlan()))
  return app
}
