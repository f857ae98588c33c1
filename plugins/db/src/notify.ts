// NOTIFY through pg_notify, so the channel and the payload travel as parameters.
import { Buffer } from 'node:buffer'
import { DatabaseInputError } from './errors.ts'
import { checkChannel } from './identifiers.ts'

/** PostgreSQL refuses a payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999

type Run = (sql: string, params: unknown[]) => Promise<unknown>

export async function notify(run: Run, channel: string, payload: string = ''): Promise<void> {
  checkChannel(channel)
  if (typeof payload !== 'string') throw new DatabaseInputError(`notify(${channel}): payload must be a string, got ${typeof payload}`)
  const bytes = Buffer.byteLength(payload)
  if (bytes > MAX_PAYLOAD_BYTES) throw new DatabaseInputError(`notify(${channel}): payload is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed`)
  await run('SELECT pg_notify($1, $2)', [channel, payload])
}
