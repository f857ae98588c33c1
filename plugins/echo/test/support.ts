// Clients for the echo plugin's protocols, shared by its tests.
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { spawnKernel, waitFor, type ChildKernel } from '@armature/testing'

export const ECHO_DIR = join(import.meta.dirname, '..')

const definition = loadSync(join(ECHO_DIR, 'proto/echo.proto'), { keepCase: true, longs: String, enums: String, defaults: true })
const EchoClient = (grpc.loadPackageDefinition(definition) as any).armature.echo.Echo as grpc.ServiceClientConstructor

const healthDefinition = loadSync(join(import.meta.dirname, '../../../node_modules/grpc-health-check/proto/health/v1/health.proto'), {
  keepCase: true,
  defaults: true,
  enums: String,
})
const HealthClient = (grpc.loadPackageDefinition(healthDefinition) as any).grpc.health.v1.Health as grpc.ServiceClientConstructor

export function echoClient(address: string, credentials = grpc.credentials.createInsecure()): any {
  return new EchoClient(address, credentials)
}

export function healthClient(address: string): any {
  return new HealthClient(address, grpc.credentials.createInsecure())
}

export function unary(client: any, message: string, deadlineMs = 5000): Promise<{ message: string; generation: number; sequence: number }> {
  return new Promise((resolve, reject) =>
    client.Unary({ message }, { deadline: Date.now() + deadlineMs }, (error: grpc.ServiceError | null, reply: any) => (error ? reject(error) : resolve(reply))),
  )
}

export function healthCheck(client: any, service = ''): Promise<string> {
  return new Promise((resolve, reject) => client.Check({ service }, (error: grpc.ServiceError | null, reply: any) => (error ? reject(error) : resolve(reply.status))))
}

/** Collects a server stream until it ends; resolves with the messages and the final status code. */
export function serverStream(
  client: any,
  request: { message: string; repeat: number; interval_ms: number },
): { messages: any[]; done: Promise<{ code: number; details: string }>; call: grpc.ClientReadableStream<any> } {
  const messages: any[] = []
  const call = client.ServerStream(request)
  const done = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('data', (m: any) => messages.push(m))
    call.on('status', (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details }))
    call.on('error', () => undefined)
  })
  return { messages, done, call }
}

/** A drop-in folder holding a copy of the echo plugin (without its tests), for a child kernel. */
export function echoDropIn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-plugins-'))
  cpSync(ECHO_DIR, join(dir, 'echo'), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })
  return dir
}

/** The gRPC address a child kernel logged. */
export async function grpcAddressOf(k: ChildKernel): Promise<string> {
  const line = await waitFor(() => k.messages().find((m) => m.startsWith('grpc listening on ')), { what: 'the grpc address' })
  return line.slice('grpc listening on '.length)
}

/** True when /healthz answers 200 within a second. */
export async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200
  } catch {
    return false
  }
}

/** A sample's value from /metrics (0 when absent). */
export async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line ? Number(line.slice(series.length + 1)) : 0
}

/** A child kernel serving only the echo plugin, with its gRPC address. */
export async function spawnEcho(): Promise<ChildKernel & { grpcAddress: string }> {
  const k = await spawnKernel({ args: ['--plugins', echoDropIn()], env: { GRPC_PORT: '0' } })
  return Object.assign(k, { grpcAddress: await grpcAddressOf(k) })
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs` (a wedged kernel never would). */
export async function stopChild(k: ChildKernel, graceMs = 15_000): Promise<void> {
  k.child.kill('SIGTERM')
  const killer = setTimeout(() => k.child.kill('SIGKILL'), graceMs)
  await k.exited
  clearTimeout(killer)
}
