// Kernel-wide HTTP interception: middleware a plugin registers for route patterns of any plugin
// (a rate limiter in front of /shortener/*), run before the target plugin's own app. The table is
// rebuilt from the current generations after every swap, so either side may reload on its own.
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'

/** How a plugin's error becomes a response (HttpError's status, else 500), logged through `log`. */
export type ErrorAnswer = (error: Error, c: Context, log: Logger) => Response

export interface Interception {
  /** A Hono path pattern: `/shortener/*`, `/cache/:entity/*`, `/hello`. */
  pattern: string
  handler: MiddlewareHandler
  /** Lower runs first; equal orders run in the order the plugins were loaded. */
  order: number
  /** The generation that registered it: counted in flight while its middleware runs. */
  owner: { readonly name: string; readonly log: Logger; enter(): void; leave(): void }
}

/** Something requests are handed to: a plugin's mounted app, or that app behind the interceptors. */
export interface Entry {
  fetch(request: Request, env?: unknown): Response | Promise<Response>
}

export class Interceptors {
  readonly #list: Interception[]
  /** The literal part of each pattern before its first parameter or wildcard: a cheap first test. */
  readonly #prefixes: string[]
  /** One composed app per target app, made on first use. */
  readonly #entries = new WeakMap<Hono, Entry>()

  constructor(
    list: Interception[],
    readonly answer: ErrorAnswer,
  ) {
    this.#list = [...list].sort((a, b) => a.order - b.order)
    this.#prefixes = this.#list.map(({ pattern }) => pattern.split(/[*:]/)[0]!.replace(/\/$/, ''))
  }

  get size(): number {
    return this.#list.length
  }

  /** Whether any pattern could match; the router of the composed app decides exactly. */
  covers(path: string): boolean {
    for (const prefix of this.#prefixes) if (path.startsWith(prefix)) return true
    return false
  }

  /** The target app with the interceptors in front of it. */
  entryFor(app: Hono): Entry {
    let entry = this.#entries.get(app)
    if (!entry) {
      const composed = new Hono()
      for (const { pattern, handler, owner } of this.#list) {
        composed.use(pattern, async (c, next) => {
          owner.enter()
          try {
            return await handler(c, next)
          } catch (error) {
            // The target app answers its own errors, so what lands here is the interceptor's.
            return this.answer(error as Error, c, owner.log)
          } finally {
            owner.leave()
          }
        })
      }
      composed.all('*', (c) => app.fetch(c.req.raw, c.env))
      entry = composed
      this.#entries.set(app, entry)
    }
    return entry
  }
}
