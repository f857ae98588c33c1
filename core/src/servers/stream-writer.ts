// Writes that respect backpressure, for plugins (ctx.grpc.write, ctx.ws.send): each resolves
// when the stream can take more, and rejects with StreamClosedError once the peer is gone or was
// ended over its buffered-bytes cap, so a producer loop stops by itself.
import { ArmatureError } from '../errors.ts'
import type { WebSocket } from 'ws'
import { outboundOf, type ServerStreamCall } from './grpc-stream-cap.ts'

/** The stream a write was meant for is over: cancelled, ended, closed, or over its cap. */
export class StreamClosedError extends ArmatureError {}

/** What a write to a stream with room returns: nothing is allocated on that path. */
const DONE: Promise<void> = Promise.resolve()

/**
 * Writes one message to a server-streaming or bidi call. While the stream has room (grpc-js's
 * buffer is not full and under an eighth of GRPC_MAX_BUFFERED_BYTES is waiting) it resolves at
 * once; when it is full, once this message has gone to HTTP/2.
 */
export function writeToCall(call: ServerStreamCall, message: unknown): Promise<void> {
  const outbound = outboundOf(call)
  const over = call.cancelled ? 'the client cancelled the call' : call.writableEnded || call.destroyed ? 'the call has ended' : outbound?.closed
  if (over) return Promise.reject(new StreamClosedError(over))
  if (!call.writableNeedDrain && (!outbound || outbound.buffered < outbound.highWater)) {
    call.write(message)
    return outbound?.closed ? Promise.reject(new StreamClosedError(outbound.closed)) : DONE
  }
  return new Promise((resolve, reject) => {
    const wake = (reason: string | undefined) => {
      outbound?.waiters.delete(wake)
      if (reason) reject(new StreamClosedError(reason))
      else resolve()
    }
    outbound?.waiters.add(wake)
    call.write(message, (error?: Error | null) => wake(error ? (outbound?.closed ?? error.message) : undefined))
  })
}

/** ctx.ws.send waits once a socket holds this many bytes unsent. */
export const WS_HIGH_WATER = 64 * 1024

/** Sends waiting on each socket, woken with an error when it closes first. */
const socketWaiters = new WeakMap<WebSocket, Set<(error?: Error | null) => void>>()

/**
 * Sends one message on a WebSocket. While under WS_HIGH_WATER bytes are waiting it resolves at
 * once; past it, once this message has been written to the socket.
 */
export function sendToSocket(socket: WebSocket, data: string | Buffer | ArrayBuffer | Buffer[]): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.reject(new StreamClosedError(`the WebSocket is not open (readyState ${socket.readyState})`))
  if (socket.bufferedAmount < WS_HIGH_WATER) {
    socket.send(data)
    // The gateway closes a socket over WS_MAX_BUFFERED_BYTES instead of sending.
    return socket.readyState === socket.OPEN ? DONE : Promise.reject(new StreamClosedError('the WebSocket was closed: over WS_MAX_BUFFERED_BYTES'))
  }
  return new Promise((resolve, reject) => {
    const wake = (error?: Error | null) => {
      socketWaiters.get(socket)?.delete(wake)
      if (error) reject(new StreamClosedError(`the WebSocket closed before the message went out: ${error.message}`))
      else resolve()
    }
    waitersOf(socket).add(wake)
    // Over the cap the gateway closes the socket instead of sending, and ws calls back with an error.
    socket.send(data, wake)
  })
}

function waitersOf(socket: WebSocket): Set<(error?: Error | null) => void> {
  let waiters = socketWaiters.get(socket)
  if (!waiters) {
    const set = (waiters = new Set())
    socketWaiters.set(socket, set)
    socket.once('close', () => {
      for (const wake of [...set]) wake(new Error('the socket closed'))
    })
  }
  return waiters
}
