// gRPC and gRPCs on one grpc-js Server, with stable per-method handlers that dispatch to
// the current plugin generation: a reload re-registers handlers, never restarts the server.
// Health (grpc.health.v1) and server reflection are served beside the plugins' services, and
// reflection lists all of them. Every stream's outbound bytes are capped (grpc-stream-cap.ts).
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync, type PackageDefinition } from '@grpc/proto-loader'
import { ReflectionService } from '@grpc/reflection'
import { HealthImplementation, protoPath as healthProto } from 'grpc-health-check'
import type { Logger } from 'pino'
import { capStream, passBytes } from './grpc-stream-cap.ts'
import { StreamClosedError } from './stream-writer.ts'

export type GrpcImplementation = Record<string, (...args: any[]) => unknown>

/** The serving side of one generation, as the gateway sees it: what it registered and the calls it is serving. */
export interface GrpcOwner {
  readonly name: string
  readonly log: Logger
  readonly services: Array<{ definition: grpc.ServiceDefinition; implementation: GrpcImplementation }>
  /** The package definitions its services came from (for reflection). */
  readonly packages: PackageDefinition[]
  enter(): void
  leave(): void
  /** Calls in flight, so a stop or a reload can end them with a status. */
  readonly calls: Set<ActiveCall>
}

export interface ActiveCall {
  kind: 'unary' | 'clientStream' | 'serverStream' | 'bidi'
  call: grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any> | grpc.ServerDuplexStream<any, any> | grpc.ServerReadableStream<any, any>
  /** Ends the call with this status if it is still running. */
  end(code: grpc.status, details: string): void
}

interface MethodEntry {
  owner: GrpcOwner
  handler: (...args: any[]) => unknown
  service: string
}

export interface GrpcGatewayOptions {
  log: Logger
  host: string
  port: number
  tlsPort: number
  tls?: { cert: Buffer; key: Buffer }
  /** Bytes a stream may hold for a peer that is not reading (GRPC_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number
  onCall?: (plugin: string, method: string, code: grpc.status) => void
  /** Wraps each method's stable handler once, at registration (tracing puts a span around every call). */
  wrapHandler?: (path: string, type: MethodType, handler: grpc.UntypedHandleCall) => grpc.UntypedHandleCall
}

export class GrpcGateway {
  readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 })
  readonly health = new HealthImplementation({ '': 'NOT_SERVING' })
  readonly addresses: { grpc?: number; grpcs?: number } = {}
  /** Method path -> the generation serving it now. */
  #methods = new Map<string, MethodEntry>()
  /** Paths registered on the server (kept even when no generation serves them: UNIMPLEMENTED). */
  #registered = new Set<string>()
  #reflection: Record<string, (...args: any[]) => unknown> = {}
  #served = new Set<string>()
  #started = false
  #stopping = false

  constructor(readonly options: GrpcGatewayOptions) {
    // The kernel's own services go through the same stream cap as the plugins'.
    this.health.addToServer({
      addService: (definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) => {
        for (const [name, method] of Object.entries(definition)) this.#registerKernelMethod(method, handlerOf(implementation, name, method))
      },
    })
    // Reflection is served through stable handlers too, so it can follow the services.
    this.#installReflection([])
  }

  get started(): boolean {
    return this.#started
  }

  /** Binds the insecure port and, with a certificate, the TLS port. */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    const { host, port, tlsPort, tls } = this.options
    this.addresses.grpc = await bind(this.server, `${hostPort(host, port)}`, grpc.ServerCredentials.createInsecure())
    this.options.log.info(`grpc listening on ${hostPort(host, this.addresses.grpc)}`)
    if (tls) {
      const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
      this.addresses.grpcs = await bind(this.server, hostPort(host, tlsPort), credentials)
      this.options.log.info(`grpcs listening on ${hostPort(host, this.addresses.grpcs)}`)
    }
  }

  /** Points every method at the generations now current; called after each swap. */
  update(owners: GrpcOwner[]): void {
    const next = new Map<string, MethodEntry>()
    const packages: PackageDefinition[] = []
    const serviceNames = new Set<string>()
    for (const owner of owners) {
      packages.push(...owner.packages)
      for (const { definition, implementation } of owner.services) {
        for (const [methodName, method] of Object.entries(definition)) {
          const service = method.path.split('/')[1]!
          serviceNames.add(service)
          next.set(method.path, { owner, handler: implementation[methodName]!, service })
          // (Re)register with this generation's codecs: calls already running keep theirs.
          this.server.unregister(method.path)
          const serialize = passBytes(method.responseSerialize)
          const handler = this.#dispatcher(method.path, methodType(method), serialize)
          this.server.register(
            method.path,
            this.options.wrapHandler?.(method.path, methodType(method), handler) ?? handler,
            serialize,
            method.requestDeserialize,
            methodType(method),
          )
          this.#registered.add(method.path)
        }
      }
    }
    this.#methods = next
    for (const name of serviceNames) this.health.setStatus(name, this.#stopping ? 'NOT_SERVING' : 'SERVING')
    for (const service of this.#served) if (!serviceNames.has(service)) this.health.setStatus(service, 'NOT_SERVING')
    this.#served = serviceNames
    this.health.setStatus('', this.#stopping ? 'NOT_SERVING' : 'SERVING')
    this.#installReflection(packages)
  }

  /** Health turns NOT_SERVING from the moment a stop begins. */
  notServing(): void {
    this.#stopping = true
    this.health.setStatus('', 'NOT_SERVING')
    for (const { service } of this.#methods.values()) this.health.setStatus(service, 'NOT_SERVING')
  }

  /**
   * Stops accepting calls and waits for the running ones; streams still open after
   * `streamGraceMs` are ended with UNAVAILABLE, so every client sees a status.
   */
  async stop(owners: GrpcOwner[], streamGraceMs: number): Promise<void> {
    this.notServing()
    if (!this.#started) return
    const done = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()))
    const grace = new Promise<'grace'>((resolve) => setTimeout(() => resolve('grace'), streamGraceMs).unref())
    if ((await Promise.race([done, grace])) === 'grace') {
      for (const owner of owners) endCalls(owner, grpc.status.UNAVAILABLE, 'the server is shutting down')
      await done
    }
  }

  force(): void {
    this.server.forceShutdown()
  }

  #dispatcher(path: string, type: MethodType, serialize: (value: unknown) => Buffer) {
    const gateway = this
    const unimplemented = { code: grpc.status.UNIMPLEMENTED, details: `${path} is not served by any running plugin` }
    switch (type) {
      case 'unary':
      case 'clientStream':
        return (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
          const entry = gateway.#methods.get(path)
          if (!entry || gateway.#stopping) return callback(entry ? { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' } : unimplemented)
          const { owner } = entry
          owner.enter()
          let settled = false
          const active: ActiveCall = { kind: type, call, end: (code, details) => finish({ code, details }) }
          owner.calls.add(active)
          const finish: grpc.sendUnaryData<any> = (error, value, trailer, flags) => {
            if (settled) return
            settled = true
            owner.calls.delete(active)
            owner.leave()
            gateway.options.onCall?.(owner.name, path, error ? ((error as grpc.ServiceError).code ?? grpc.status.UNKNOWN) : grpc.status.OK)
            callback(error, value, trailer, flags)
          }
          gateway.#invoke(entry, finish, call, finish)
        }
      case 'serverStream':
      case 'bidi':
        return (call: grpc.ServerWritableStream<any, any> | grpc.ServerDuplexStream<any, any>) => {
          const entry = gateway.#methods.get(path)
          if (!entry || gateway.#stopping) {
            call.emit('error', entry ? { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' } : unimplemented)
            return
          }
          const { owner } = entry
          owner.enter()
          let settled = false
          const active: ActiveCall = {
            kind: type,
            call,
            end: (code, details) => {
              if (!settled && !call.cancelled && call.writable) call.emit('error', { code, details })
            },
          }
          owner.calls.add(active)
          const release = (code: grpc.status) => {
            if (settled) return
            settled = true
            owner.calls.delete(active)
            owner.leave()
            gateway.options.onCall?.(owner.name, path, code)
          }
          call.once('finish', () => release(grpc.status.OK))
          call.once('cancelled', () => release(grpc.status.CANCELLED))
          call.once('close', () => release(grpc.status.OK))
          gateway.#cap(call, serialize, path, owner.log, () => release(grpc.status.RESOURCE_EXHAUSTED))
          gateway.#invoke(entry, (error) => call.emit('error', error), call)
        }
    }
  }

  /** Caps a stream's outbound bytes; going over is logged and ends the call with RESOURCE_EXHAUSTED. */
  #cap(
    call: grpc.ServerWritableStream<any, any> | grpc.ServerDuplexStream<any, any>,
    serialize: (value: unknown) => Buffer,
    path: string,
    log: Logger,
    overflowed?: () => void,
  ): void {
    capStream(call, serialize, {
      maxBytes: this.options.maxBufferedBytes,
      onOverflow: (details) => {
        overflowed?.()
        log.warn(`grpc ${path} from ${call.getPeer()} ended with RESOURCE_EXHAUSTED: ${details}`)
      },
      onSerializeError: (error) => log.error(`grpc ${path}: a reply could not be serialized: ${(error as Error)?.message ?? error}`),
    })
  }

  /** Runs a plugin handler; a throw or a rejected promise becomes INTERNAL, never a crash. */
  #invoke(entry: MethodEntry, fail: (error: grpc.ServiceError) => void, ...args: unknown[]): void {
    const internal = (error: unknown) => {
      // A write to a call that is already over (ctx.grpc.write rejecting) ends a handler quietly.
      if (error instanceof StreamClosedError) return entry.owner.log.debug(`grpc stream ended: ${error.message}`)
      this.options.log.error({ plugin: entry.owner.name }, `grpc handler failed: ${(error as Error)?.message ?? error}`)
      fail({ code: grpc.status.INTERNAL, details: 'internal error' } as grpc.ServiceError)
    }
    try {
      const result = entry.handler(...args)
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).catch(internal)
    } catch (error) {
      internal(error)
    }
  }

  /** Reflection describes the plugins' services and the kernel's own (health, reflection), as grpc-go servers do. */
  #installReflection(packages: PackageDefinition[]): void {
    const merged: PackageDefinition = Object.assign({}, kernelPackages(), ...packages)
    const captured: Record<string, (...args: any[]) => unknown> = {}
    new ReflectionService(merged).addToServer({
      addService: (definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) => {
        for (const [name, method] of Object.entries(definition)) {
          captured[method.path] = handlerOf(implementation, name, method)
          if (!this.#registered.has(method.path)) {
            const path = method.path
            this.#registerKernelMethod(method, (...args: unknown[]) => this.#reflection[path]!(...args))
          }
        }
      },
    })
    this.#reflection = captured
  }

  /** Registers one of the kernel's own methods; its streams get the same cap as a plugin's. */
  #registerKernelMethod(method: grpc.MethodDefinition<any, any>, handler: (...args: any[]) => unknown): void {
    const type = methodType(method)
    const serialize = passBytes(method.responseSerialize)
    const capped =
      type === 'serverStream' || type === 'bidi'
        ? (call: grpc.ServerWritableStream<any, any>) => {
            this.#cap(call, serialize, method.path, this.options.log)
            return handler(call)
          }
        : handler
    this.server.register(method.path, capped, serialize, method.requestDeserialize, type)
    this.#registered.add(method.path)
  }
}

/** A service's handler for a method, found by name or original (proto) name, as grpc-js's addService does. */
function handlerOf(implementation: grpc.UntypedServiceImplementation, name: string, method: grpc.MethodDefinition<any, any>): (...args: any[]) => unknown {
  const handler = (implementation[name] ?? (method.originalName ? implementation[method.originalName] : undefined)) as ((...args: any[]) => unknown) | undefined
  if (!handler) throw new Error(`no handler for ${method.path}`)
  return handler.bind(implementation)
}

let kernelPackageCache: PackageDefinition | undefined

/** The descriptors of the services the kernel itself serves, for reflection. */
function kernelPackages(): PackageDefinition {
  if (kernelPackageCache) return kernelPackageCache
  const require = createRequire(import.meta.url)
  const reflectionProtos = join(dirname(require.resolve('@grpc/reflection')), '../proto')
  const healthRoot = healthProto.slice(0, -'health/v1/health.proto'.length)
  const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }
  kernelPackageCache = {
    ...loadSync('health/v1/health.proto', { ...options, includeDirs: [healthRoot] }),
    ...loadSync(['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'], { ...options, includeDirs: [reflectionProtos] }),
  }
  return kernelPackageCache
}

export type MethodType = 'unary' | 'clientStream' | 'serverStream' | 'bidi'

function methodType(method: { requestStream: boolean; responseStream: boolean }): MethodType {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream'
  return method.responseStream ? 'serverStream' : 'unary'
}

function endCalls(owner: GrpcOwner, code: grpc.status, details: string): void {
  for (const active of [...owner.calls]) active.end(code, details)
}

/** Ends a retiring generation's calls that outlived the drain. */
export function endGenerationCalls(owner: GrpcOwner, details: string): void {
  endCalls(owner, grpc.status.UNAVAILABLE, details)
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port))))
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Loads .proto files into a package definition and the grpc object a plugin indexes. */
export function loadProto(files: string | string[], includeDirs: string[]): { packageDefinition: PackageDefinition; grpcObject: grpc.GrpcObject } {
  const packageDefinition = loadSync(files, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs })
  return { packageDefinition, grpcObject: grpc.loadPackageDefinition(packageDefinition) }
}
