// The one shape every server the kernel runs has toward plugin generations (HTTP, WebSocket,
// gRPC, the queue port, a plugin's own listener): the kernel, the lifecycle and the generation
// name no protocol. Each protocol binds its own part of ctx and keeps its own per-generation state.
import type { Claim } from './claims.ts'
import type { Generation } from './generation.ts'
import type { PluginContext } from './plugin.ts'
import type { StopEntry } from './shutdown.ts'

/** What a protocol is handed to bind its part of one generation's ctx. */
export interface Binding {
  readonly gen: Generation
  /** Where the plugin's source lives (a proto/ folder is read from here). */
  readonly dir: string
  /** Throws unless the generation is still in setup: registrations (`ctx.http.route`, ...) are only allowed then. */
  duringSetup(what: string): void
}

export interface Protocol {
  readonly name: string
  /** This protocol's part of a generation's ctx (`{ http }`, `{ ws }`, `{ grpc }`), made before its setup runs. */
  context?(binding: Binding): Partial<PluginContext>
  /** The generation's setup returned; throwing fails the setup (a promise the plugin declared and did not keep). */
  setUp?(gen: Generation): void
  /** What a generation claims here; two running generations may not claim the same thing. */
  claims?(gen: Generation): Claim[]
  /** After every swap (and once the listeners are open): point dispatch at the generations now current. */
  update(current: Generation[]): void | Promise<void>
  /** The generation now serves (called in the swap itself, before `update`). */
  swappedIn?(gen: Generation): void
  /** A replaced generation is leaving: let its connections go, within `drainMs`. */
  retire?(gen: Generation, drainMs: number): Promise<void>
  /** The generation's in-flight work outlived the drain: end it with a status. */
  abandon?(gen: Generation): void
  /** Before a generation's stop entries run (after a drain, or a failed setup): release what it holds here. */
  released?(gen: Generation): Promise<void>
  /** A stop has begun: refuse new work where the protocol can say so (health NOT_SERVING). */
  stopping?(): void
  /** The entries a stop begun now would run for this protocol. */
  stopEntries(running: Generation[]): StopEntry[]
  /** What a generation serves here, for `/_armature/plugins` (`{ websockets: [...] }`). */
  describe?(gen: Generation): Record<string, unknown>
}

/**
 * A protocol's state for each generation, made on first use and gone with the generation: what
 * it registered (routes, services) and what it holds open (sockets, calls).
 */
export function perGeneration<T>(make: (gen: Generation) => T): (gen: Generation) => T {
  const parts = new WeakMap<Generation, T>()
  return (gen) => {
    let part = parts.get(gen)
    if (part === undefined) parts.set(gen, (part = make(gen)))
    return part
  }
}
