// A connection to a pubsub broker over gRPC (`grpc://host:port` or `host:port`) or gRPC over
// TLS (`grpcs://host:port`, the kernel's GRPCS_PORT): the loaded
/* eslint-disable @typescript-eslint/no-explicit-any -- proto-loader makes untyped clients and packages */
// service, unary calls as promises, and broker refusals as PubsubError.
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { PubsubError } from '../errors.ts'
import { fromGrpcError } from '../wire.ts'

/** Where the proto is beside this file; a bundler that moves the code passes `protoPath` instead. */
export const DEFAULT_PROTO = join(import.meta.dirname, '../../proto/pubsub.proto')
const services = new Map<string, grpc.ServiceClientConstructor>()
function service(protoPath: string): grpc.ServiceClientConstructor {
  let Service = services.get(protoPath)
  if (!Service) {
    const definition = loadSync(protoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
    Service = (grpc.loadPackageDefinition(definition) as any).armature.pubsub.Pubsub as grpc.ServiceClientConstructor
    services.set(protoPath, Service)
  }
  return Service
}

/** The network failed or the broker is away: the call may be sent again. */
export class ConnectionError extends Error {
  override name = 'ConnectionError'
  readonly retriable = true
}

export interface BrokerAddress {
  /** host:port */
  address: string
  /** grpcs://: TLS, the server's certificate checked against the CA given (else the system's roots). */
  tls: boolean
}

export function parseBrokerUrl(url: string): BrokerAddress {
  const match = /^(?:(grpcs?):\/\/)?([^/\s]+:\d+)\/?$/.exec(url.trim())
  if (!match) throw new PubsubError('INVALID_ARGUMENT', `broker url ${JSON.stringify(url)}: expected grpc://host:port or grpcs://host:port`)
  return { address: match[2]!, tls: match[1] === 'grpcs' }
}

/** PEM text or bytes, as read from a file. */
export type Pem = string | Uint8Array

export interface TlsOptions {
  /** The CA that signed the broker's certificate (a self-signed or private CA); default: the system's roots. */
  ca?: Pem
  /** A client certificate and its key, for a broker behind a proxy that asks for one. */
  cert?: Pem
  key?: Pem
}

export interface ConnectionOptions {
  protoPath?: string
  /** The broker's PUBSUB_TOKEN, sent as `authorization: Bearer <token>` metadata on every call. */
  token?: string
  /**
   * The HTTP/2 receive window (bytes) this connection opens: what the broker may send before
   * the client acknowledges reading it. HTTP/2's 64 KiB default holds back push deliveries (a
   * member's maxAckPending of 1000 small records is more) and the replies of pipelined batches.
   */
  receiveWindowBytes?: number
  /** With a grpcs:// url: the CA (and a client certificate) to use; given with grpc:// it is an error. */
  tls?: TlsOptions
}

/** ConnectionOptions.receiveWindowBytes's default: 1 MiB. */
export const DEFAULT_RECEIVE_WINDOW = 1024 * 1024

/** Adds the bearer token to every call's metadata, unary and streaming alike. */
function bearer(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`)
        next(metadata, listener)
      },
    })
}

const asBuffer = (pem: Pem | undefined) => (pem === undefined ? undefined : Buffer.from(pem))

function credentialsFor(broker: BrokerAddress, tls: TlsOptions | undefined): grpc.ChannelCredentials {
  if (!broker.tls) {
    if (tls) throw new PubsubError('INVALID_ARGUMENT', `tls options given for the plain grpc:// broker ${broker.address}: use grpcs://${broker.address}`)
    return grpc.credentials.createInsecure()
  }
  if (Boolean(tls?.cert) !== Boolean(tls?.key)) throw new PubsubError('INVALID_ARGUMENT', 'tls: cert and key must be given together')
  return grpc.credentials.createSsl(asBuffer(tls?.ca), asBuffer(tls?.key), asBuffer(tls?.cert))
}

export class PubsubConnection {
  readonly address: string
  readonly tls: boolean
  readonly raw: any

  constructor(url: string, options: ConnectionOptions = {}) {
    const broker = parseBrokerUrl(url)
    this.address = broker.address
    this.tls = broker.tls
    const window = options.receiveWindowBytes ?? DEFAULT_RECEIVE_WINDOW
    if (!Number.isInteger(window) || window < 65_535 || window > 2 ** 31 - 1)
      throw new PubsubError('INVALID_ARGUMENT', `receiveWindowBytes: expected an integer from 65535 (HTTP/2's default) to 2147483647, got ${window}`)
    const Service = service(options.protoPath ?? DEFAULT_PROTO)
    this.raw = new Service(this.address, credentialsFor(broker, options.tls), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc-node.flow_control_window': window,
      ...(options.token ? { interceptors: [bearer(options.token)] } : {}),
    })
  }

  /** The url this connection was made from, normalised: grpc://host:port or grpcs://host:port. */
  get url(): string {
    return `${this.tls ? 'grpcs' : 'grpc'}://${this.address}`
  }

  /** A unary call; `signal` cancels it (a long-poll Fetch given up on a revocation or a disconnect). */
  call<R = any>(method: string, request: object, timeoutMs = 30_000, signal?: AbortSignal): Promise<R> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new ConnectionError(`pubsub ${method}: cancelled`))
      const call = this.raw[method](request, { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, reply: R) => {
        signal?.removeEventListener('abort', cancel)
        if (error) reject(asError(error))
        else resolve(reply)
      })
      const cancel = () => call.cancel()
      signal?.addEventListener('abort', cancel, { once: true })
    })
  }

  close(): void {
    this.raw.close()
  }
}

export function asError(error: grpc.ServiceError | Error): Error {
  const refusal = fromGrpcError(error as grpc.ServiceError)
  if (refusal) return refusal
  const code = (error as grpc.ServiceError).code
  if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED || code === grpc.status.INTERNAL) {
    return new ConnectionError(`pubsub broker: ${(error as grpc.ServiceError).details || error.message}`)
  }
  return error
}
