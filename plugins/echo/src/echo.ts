// The echo itself: what every protocol answers. Plain functions, no servers.

export interface EchoReply {
  message: string
  generation: number
  sequence: number
}

/** Longest message echoed; longer input is refused rather than copied back. */
export const MAX_MESSAGE_LENGTH = 64 * 1024

export class EchoInputError extends Error {
  override name = 'EchoInputError'
}

export function echo(message: unknown, generation: number, sequence = 0): EchoReply {
  if (typeof message !== 'string') throw new EchoInputError(`message must be a string, got ${message === null ? 'null' : typeof message}`)
  if (message.length > MAX_MESSAGE_LENGTH) throw new EchoInputError(`message is ${message.length} characters; the limit is ${MAX_MESSAGE_LENGTH}`)
  return { message, generation, sequence }
}

/**
 * Refuses a stream request field past its limit: the message names the field, the value, the
 * limit and the setting that raises it. Undefined when the value is within the limit.
 */
export function overLimit(field: string, value: number, max: number, setting: string): string | undefined {
  return value > max ? `${field} ${value} is over the limit of ${max} (${setting})` : undefined
}

/** Waits `ms`, or less if the signal aborts first. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
