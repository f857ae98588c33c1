// The outbound side of every gRPC server stream the gateway dispatches. Each write is serialized
// when it is made (the registered serializer lets the bytes through), so the bytes still waiting
// for the peer are known; a write that finds more than the cap waiting ends the call with
// RESOURCE_EXHAUSTED instead of growing the heap for a peer that does not read.
import { constants as http2 } from 'node:http2'
import type { ServerHttp2Stream } from 'node:http2'
import * as grpc from '@grpc/grpc-js'

export type ServerStreamCall = grpc.ServerWritableStream<any, any> | grpc.ServerDuplexStream<any, any>

/** How long an ended stream's status may wait behind data the peer has not read before the stream is reset. */
export const OVERFLOW_GRACE_MS = 5000

export interface StreamCapOptions {
  maxBytes: number
  /** Called once when the call is ended for going over the cap, before its status is sent. */
  onOverflow(details: string): void
  /** Called when a message cannot be serialized (a plugin bug); the call ends with INTERNAL. */
  onSerializeError(error: unknown): void
}

/** What the kernel knows about one stream's outbound side; ctx.grpc.write waits on it. */
export class Outbound {
  /** Serialized bytes handed to grpc-js and not yet to HTTP/2. */
  buffered = 0
  /** Why no more writes are taken, once the call is over. */
  closed: string | undefined
  /** ctx.grpc.write calls waiting for their message to go out; rejected when the call ends first. */
  readonly waiters = new Set<(reason: string | undefined) => void>()
  /** ctx.grpc.write waits once a stream holds this much: an eighth of the cap. */
  readonly highWater: number

  constructor(readonly maxBytes: number) {
    this.highWater = Math.max(1, Math.floor(maxBytes / 8))
  }

  close(reason: string): void {
    if (this.closed) return
    this.closed = reason
    for (const wake of [...this.waiters]) wake(reason)
    this.waiters.clear()
  }
}

const outbounds = new WeakMap<object, Outbound>()

/** The kernel's record of a stream it dispatched; undefined for a call it did not. */
export function outboundOf(call: object): Outbound | undefined {
  return outbounds.get(call)
}

/** A serializer that passes bytes already serialized by the capped write through unchanged. */
export function passBytes(serialize: (value: any) => Buffer): (value: any) => Buffer {
  return (value) => (Buffer.isBuffer(value) ? value : serialize(value))
}

/** Installs the cap on a call: its write serializes, counts and refuses past `maxBytes`. */
export function capStream(call: ServerStreamCall, serialize: (value: any) => Buffer, options: StreamCapOptions): Outbound {
  const outbound = new Outbound(options.maxBytes)
  outbounds.set(call, outbound)
  call.once('close', () => outbound.close(call.cancelled ? 'the client cancelled the call' : 'the call has ended'))
  const write = call.write
  const limit = `more than ${options.maxBytes} bytes are waiting for a client that is not reading (GRPC_MAX_BUFFERED_BYTES)`
  call.write = function cappedWrite(this: ServerStreamCall, message: unknown, encoding?: unknown, callback?: unknown): boolean {
    const done = (typeof encoding === 'function' ? encoding : callback) as ((error?: Error | null) => void) | undefined
    if (outbound.closed) {
      if (done) process.nextTick(done, new Error(outbound.closed))
      return false
    }
    let bytes: Buffer
    try {
      bytes = serialize(message)
    } catch (error) {
      options.onSerializeError(error)
      outbound.close('a reply could not be serialized')
      call.emit('error', { code: grpc.status.INTERNAL, details: 'Error serializing response' })
      return false
    }
    // One message bigger than the cap still goes to a peer that has taken everything before it.
    if (outbound.buffered > 0 && outbound.buffered + bytes.length > options.maxBytes) {
      outbound.close(limit)
      options.onOverflow(limit)
      endNow(call, grpc.status.RESOURCE_EXHAUSTED, limit)
      if (done) process.nextTick(done, new Error(limit))
      return false
    }
    outbound.buffered += bytes.length
    return write.call(call, bytes, (error?: Error | null) => {
      outbound.buffered -= bytes.length
      done?.(error)
    })
  } as typeof call.write
  return outbound
}

/**
 * Ends a call at once: its queued messages are dropped and the status goes out behind what
 * HTTP/2 already holds. A peer that does not take it within the grace gets RST_STREAM
 * ENHANCE_YOUR_CALM, which gRPC clients report as RESOURCE_EXHAUSTED. grpc-js has no public way to
 * drop a stream's queue, so this reaches its call object (`call.call`) and HTTP/2 stream.
 */
function endNow(call: ServerStreamCall, code: grpc.status, details: string): void {
  const inner = (call as unknown as { call?: InnerCall }).call
  // The status as an 'error', as a handler would end the call (listeners such as tracing see
  // the code); the destroy right after keeps grpc-js from waiting for the queue to drain.
  call.emit('error', { code, details })
  call.destroy()
  if (!inner) return
  inner.sendStatus({ code, details, metadata: null })
  const stream = http2StreamOf(inner)
  if (!stream || stream.closed) return
  const reset = setTimeout(() => stream.close(http2.NGHTTP2_ENHANCE_YOUR_CALM), OVERFLOW_GRACE_MS)
  reset.unref()
  stream.once('close', () => clearTimeout(reset))
}

interface InnerCall {
  sendStatus(status: { code: grpc.status; details: string; metadata: grpc.Metadata | null }): void
  nextCall?: InnerCall
  stream?: ServerHttp2Stream
}

/** The HTTP/2 stream under grpc-js's interceptor chain. */
function http2StreamOf(inner: InnerCall | undefined): ServerHttp2Stream | undefined {
  for (let at = inner; at; at = at.nextCall) if (at.stream) return at.stream
  return undefined
}
