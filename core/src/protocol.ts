// The one shape every server the kernel runs has toward plugin generations (HTTP, WebSocket,
// gRPC, the queue port, a plugin's own listener): the kernel and the lifecycle name no protocol.
import type { Claim } from './claims.ts'
import type { Generation } from './generation.ts'
import type { StopEntry } from './shutdown.ts'

export interface Protocol {
  readonly name: string
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
