// The page at /orders/: three static files, read once; /orders redirects to /orders/ so relative URLs resolve.
import { Hono } from 'hono'

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'page.js': 'text/javascript; charset=utf-8',
  'page.css': 'text/css; charset=utf-8',
}

// The page renders every field with textContent; the policy makes any injected markup inert too.
const SECURITY = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
}

export function pageRoutes(read: (name: string) => string): Hono {
  const files = new Map(Object.keys(TYPES).map((name) => [name, read(name)]))
  const app = new Hono()
  for (const name of ['page.js', 'page.css']) app.get(`/${name}`, (c) => c.body(files.get(name)!, 200, { 'content-type': TYPES[name]!, ...SECURITY }))
  // Mounted under a base, '/' is the base itself (redirected) and '/*' covers the base with its slash.
  app.get('/', (c) => c.redirect(`${c.req.path}/`, 301))
  app.get('/*', (c) => {
    if (!c.req.path.endsWith('/') || c.req.path.slice(0, -1).includes('/', 1)) return c.json({ error: `no page ${c.req.path}` }, 404)
    return c.body(files.get('index.html')!, 200, { 'content-type': TYPES['index.html']!, ...SECURITY })
  })
  return app
}
