// The HTTP surface: management at /shortener, following at /s.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Hono, type Context } from 'hono'
import { apiKeyGuards, type RequireBearer } from './api-key.ts'
import type { Link } from './link.ts'
import type { Shortener } from './shortener.ts'
import { parseLinkInput } from './validation.ts'

/**
 * Proxy mode's forwarder (the proxy plugin's `forward`): streams the request to `target` and
 * the answer into `res`, answering 502 when the target does not answer and 504 past the timeout.
 */
export type Forward = (req: IncomingMessage, res: ServerResponse, target: URL, options: { responseTimeoutMs: number }) => Promise<void>

/** Tells the Node server the answer was written straight to the response. */
const alreadySent = () => new Response(null, { headers: { 'x-hono-already-sent': 'true' } })

export interface RouteOptions {
  shortener: Shortener
  apiKey: string
  /** The kernel's bearer check. */
  requireBearer: RequireBearer
  /** Origin (and optional path) short URLs start with; empty: the origin the request came to. */
  publicUrl: string
  followBase: string
  /**
   * Reads a create request's JSON body within its limit (the kernel's `ctx.http.readJson`):
   * 413, 415 and 400 are its answers.
   */
  readJson: (c: Context) => Promise<unknown>
  proxyTimeoutMs: number
  forward: Forward
}

function shortUrlOf(c: Context, options: RouteOptions, slug: string): string {
  const base = options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : new URL(c.req.url).origin
  return `${base}${options.followBase}/${slug}`
}

function present(c: Context, options: RouteOptions, link: Link) {
  return { ...link, shortUrl: shortUrlOf(c, options, link.slug) }
}

export function managementRoutes(options: RouteOptions): Hono {
  const { shortener } = options
  // Errors carry their status (ShortenerError, a 503 for a database outage): the kernel's
  // plugin mount answers them as JSON, and anything else as a logged 500.
  const app = new Hono()

  const guard = apiKeyGuards(options.requireBearer, options.apiKey)
  app.use('/links/*', async (c, next) => {
    // Stats are public: they show counts, not the destination.
    if (c.req.method === 'GET' && c.req.path.endsWith('/stats')) return next()
    return guard.manage(c, next)
  })
  app.use('/links', guard.create)

  app.post('/links', async (c) => {
    const link = await shortener.create(parseLinkInput(await options.readJson(c)))
    return c.json(present(c, options, link), 201)
  })
  app.get('/links/:slug', async (c) => c.json(present(c, options, await shortener.get(c.req.param('slug')))))
  app.delete('/links/:slug', async (c) => {
    await shortener.delete(c.req.param('slug'))
    return c.body(null, 204)
  })
  app.get('/links/:slug/stats', async (c) => {
    const link = await shortener.get(c.req.param('slug'))
    return c.json({
      slug: link.slug,
      visits: link.visits,
      maxVisits: link.maxVisits,
      remainingVisits: link.maxVisits === null ? null : Math.max(0, link.maxVisits - link.visits),
      expiresAt: link.expiresAt,
      expired: link.expiresAt !== null && Date.parse(link.expiresAt) <= Date.now(),
      createdAt: link.createdAt,
      lastVisitAt: link.lastVisitAt,
    })
  })
  return app
}

/**
 * A redirect as a plain-object response with a string body: @hono/node-server writes that with
 * one writeHead, where a Headers object or a null body takes its general (slower) path.
 */
function redirect(link: Link): Response {
  const headers: Record<string, string> = { location: link.url }
  // A browser keeps a cached 301/308 for good and would skip the count and the limits.
  if (link.expiresAt !== null || link.maxVisits !== null) headers['cache-control'] = 'no-store'
  return new Response('', { status: link.status, headers })
}

function follow(c: Context, link: Link, options: RouteOptions): Response | Promise<Response> {
  if (link.mode === 'redirect') return redirect(link)
  return proxyTo(c, link, options)
}

async function proxyTo(c: Context, link: Link, options: RouteOptions): Promise<Response> {
  const requestUrl = new URL(c.req.url)
  const target = new URL(link.url)
  for (const [key, value] of requestUrl.searchParams) target.searchParams.append(key, value)
  // The proxy plugin's forwarder works on the Node request and response: the body is still
  // unread, and streams through both ways.
  const { incoming, outgoing } = (c.env ?? {}) as { incoming?: IncomingMessage; outgoing?: ServerResponse }
  if (!incoming || !outgoing) throw new Error('proxy mode needs the Node HTTP server (no incoming request in the handler environment)')
  await options.forward(incoming, outgoing, target, { responseTimeoutMs: options.proxyTimeoutMs })
  return alreadySent()
}

export function followRoutes(options: RouteOptions): Hono {
  const { shortener } = options
  const app = new Hono()
  // Synchronous for a cached link, so the Node server writes the answer without a promise turn.
  app.all('/:slug', (c): Response | Promise<Response> => {
    const slug = c.req.param('slug')
    const link = shortener.visitCached(slug)
    if (link) return follow(c, link, options)
    return shortener.visit(slug).then((loaded) => follow(c, loaded, options))
  })
  return app
}
