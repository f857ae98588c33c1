// Message encoding shared by every backend: how a publish body becomes bytes, and how a
// delivery becomes the QueueMessage a handler sees.
import { errorMessage } from '../errors.ts'
import { ATTEMPT_HEADER, MalformedMessageError, type QueueMessage } from '../queue.ts'

/** Encodes a publish body: Buffers as they are, strings as UTF-8, anything else as JSON. */
export function encodeBody(body: Buffer | string | object): { content: Buffer; contentType: string } {
  if (Buffer.isBuffer(body)) return { content: body, contentType: 'application/octet-stream' }
  if (typeof body === 'string') return { content: Buffer.from(body, 'utf8'), contentType: 'text/plain; charset=utf-8' }
  const json = JSON.stringify(body)
  // JSON.stringify returns undefined for undefined, functions and symbols: nothing to send.
  if (json === undefined) throw new TypeError(`cannot publish a ${typeof body} body; expected a Buffer, a string or a JSON value`)
  return { content: Buffer.from(json, 'utf8'), contentType: 'application/json' }
}

/** Reads the attempt header defensively: anything but a positive integer counts as a first attempt. */
export function attemptOf(headers: Readonly<Record<string, unknown>> | undefined): number {
  const value = Number(headers?.[ATTEMPT_HEADER])
  return Number.isSafeInteger(value) && value >= 1 ? value : 1
}

export interface DeliveredFields {
  queue: string
  body: Buffer
  headers?: Readonly<Record<string, unknown>> | undefined
  contentType?: string | undefined
  correlationId?: string | undefined
  replyTo?: string | undefined
  messageId?: string | undefined
  redelivered: boolean
}

/** The message a handler receives; `attempt` comes from the attempt header. */
export function queueMessage(fields: DeliveredFields): QueueMessage {
  const { queue, body } = fields
  const headers = { ...fields.headers }
  return {
    queue,
    body,
    headers,
    contentType: fields.contentType,
    correlationId: fields.correlationId,
    replyTo: fields.replyTo,
    messageId: fields.messageId,
    redelivered: fields.redelivered,
    attempt: attemptOf(headers),
    text: () => body.toString('utf8'),
    json<T>(): T {
      try {
        return JSON.parse(body.toString('utf8')) as T
      } catch (error) {
        throw new MalformedMessageError(queue, `body is not valid JSON (${errorMessage(error)})`)
      }
    },
  }
}
