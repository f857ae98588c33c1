// What processing a raw row means: the built-in step (the user agent parsed into columns,
// module/type/event/name normalised, the rest of the body kept as data), then the processors
// a user added, in order. A processor that throws fails the row: it is retried with backoff.
import { parseTantumUserAgent, MAX_FIELD } from './user-agent.ts'

/** A claimed raw row, as processors see it. */
export interface RawEvent {
  id: string
  /** 1 on the first claim, +1 per claim (the fencing token). */
  attempt: number
  time: Date
  userId: string
  headers: Record<string, string>
  body: Record<string, unknown>
}

/** The analytics row to store. */
export interface ProcessedEvent {
  module: string | null
  type: string | null
  event: string | null
  name: string | null
  deviceId: string | null
  deviceType: string | null
  osVersion: string | null
  appVersion: string | null
  appBuild: string | null
  /** Stored as `analytics.data` (jsonb): the body without the four fields above, unless a processor changes it. */
  data: unknown
}

/** A user's step: return a new ProcessedEvent (or change it and return nothing); throw to fail the row. */
export type Processor = (event: RawEvent, processed: ProcessedEvent) => ProcessedEvent | void | Promise<ProcessedEvent | void>

const NORMALISED = ['module', 'type', 'event', 'name'] as const

/** A header of the stored headers, by name in any case. */
export function storedHeader(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) return headers[key]
  return undefined
}

/** Lower case, trimmed, inner whitespace as one `_`: `Settings ` and `settings` count as one module. */
export function normaliseKey(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  const text = String(value).normalize('NFC').trim().toLowerCase().replace(/\s+/g, '_').slice(0, MAX_FIELD)
  return text || null
}

/** Trimmed, inner whitespace as one space, NFC; case kept (a name is shown to people). */
export function normaliseName(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  const text = String(value).normalize('NFC').trim().replace(/\s+/g, ' ').slice(0, MAX_FIELD)
  return text || null
}

export function builtInProcessing(event: RawEvent): ProcessedEvent {
  const agent = parseTantumUserAgent(storedHeader(event.headers, 'X-Tantum-UserAgent'))
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event.body)) if (!(NORMALISED as readonly string[]).includes(key)) rest[key] = value
  return {
    module: normaliseKey(event.body.module),
    type: normaliseKey(event.body.type),
    event: normaliseKey(event.body.event),
    name: normaliseName(event.body.name),
    ...agent,
    data: rest,
  }
}

/** The processors users registered, run after the built-in step. */
export class ProcessorChain {
  readonly #steps = new Map<symbol, { name: string; fn: Processor }>()

  /** Adds `fn`; the returned function (or `signal` aborting) removes it. */
  add(name: string, fn: Processor, options: { signal?: AbortSignal } = {}): () => void {
    if (typeof fn !== 'function') throw new TypeError(`analytics processor ${JSON.stringify(name)} must be a function`)
    const key = Symbol(name)
    this.#steps.set(key, { name, fn })
    const remove = () => void this.#steps.delete(key)
    options.signal?.addEventListener('abort', remove, { once: true })
    return remove
  }

  get names(): string[] {
    return [...this.#steps.values()].map((step) => step.name)
  }

  async run(event: RawEvent): Promise<ProcessedEvent> {
    let processed = builtInProcessing(event)
    for (const { name, fn } of this.#steps.values()) {
      try {
        processed = (await fn(event, processed)) ?? processed
      } catch (error) {
        throw new ProcessorError(name, error)
      }
    }
    return processed
  }
}

export class ProcessorError extends Error {
  override name = 'ProcessorError'
  constructor(
    readonly processor: string,
    cause: unknown,
  ) {
    super(`processor ${processor} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}
