// The plugin table: one slot per plugin name with its current generation, status and last
// error; who uses whom; what /readyz and /_armature/plugins say about them.
import type { Logger } from 'pino'
import { orderByUses, usedNames } from './dependencies.ts'
import { errorMessage } from './errors.ts'
import type { Generation } from './generation.ts'
import type { PluginSource, Rejected } from './loader.ts'

export type PluginStatus = 'running' | 'failed' | 'stopped'

export interface PluginSlot {
  name: string
  source: PluginSource | undefined
  current: Generation | undefined
  status: PluginStatus
  lastError: string | undefined
  /** Highest generation number handed out. */
  generations: number
  /** What the last prepared definition uses, so a failed plugin can follow its dependencies back up. */
  uses: string[]
  /** A setup that failed is tried again with backoff (an outage of what it needs may end). */
  retry: { attempt: number; timer: NodeJS.Timeout | undefined } | undefined
}

export class PluginRegistry {
  readonly slots = new Map<string, PluginSlot>()
  /** Drop-in entries refused before they became plugins (bad names, unreadable folders). */
  readonly rejected: Rejected[] = []

  constructor(readonly log: Logger) {}

  /** The slot of `name`, made on first mention; a source given replaces the known one. */
  slot(name: string, source?: PluginSource): PluginSlot {
    let slot = this.slots.get(name)
    if (!slot) {
      slot = { name, source, current: undefined, status: 'stopped', lastError: undefined, generations: 0, uses: [], retry: undefined }
      this.slots.set(name, slot)
    }
    if (source) slot.source = source
    return slot
  }

  /** The generations serving now, in load order. */
  current(): Generation[] {
    return [...this.slots.values()].flatMap((s) => (s.current ? [s.current] : []))
  }

  /** Puts `gen` in its slot; answers the generation it replaces. */
  swapIn(gen: Generation): Generation | undefined {
    const slot = this.slot(gen.name)
    const old = slot.current
    slot.current = gen
    slot.status = 'running'
    slot.lastError = undefined
    return old
  }

  /** Records a failure; a plugin with a serving generation keeps it. */
  fail(slot: PluginSlot, error: unknown): void {
    const message = errorMessage(error)
    slot.lastError = message
    if (!slot.current) slot.status = 'failed'
    this.log.error(slot.current ? `${message} (generation ${slot.current.id} keeps serving)` : message)
  }

  /** Running plugins that use `name`, directly or not, in an order where each comes after what it uses. */
  dependents(name: string): string[] {
    const result: string[] = []
    const visit = (target: string) => {
      for (const slot of this.slots.values()) {
        if (slot.current && usedNames(slot.current.definition.uses).includes(target) && !result.includes(slot.name) && slot.name !== name) {
          result.push(slot.name)
          visit(slot.name)
        }
      }
    }
    visit(name)
    const { order } = orderByUses(new Map(result.map((n) => [n, usedNames(this.slots.get(n)!.current!.definition.uses).filter((d) => result.includes(d))])))
    return order
  }

  /** Failed plugins, and unhealthy dependencies of running ones, as /readyz names them. */
  problems(): string | undefined {
    const failed = [...this.slots.values()].filter((s) => !s.current && s.status === 'failed').map((s) => s.name)
    if (failed.length) return `failed plugins: ${failed.join(', ')}`
    const unhealthy = this.current().flatMap((g) => [...g.health].filter(([, h]) => !h.ok).map(([component, h]) => `${g.name} ${component}: ${h.reason}`))
    if (unhealthy.length) return `not healthy: ${unhealthy.join('; ')}`
    return undefined
  }

  /** One row per plugin for /_armature/plugins; `served` adds what each protocol says of a generation. */
  describe(served: (gen: Generation) => Record<string, unknown>) {
    return [...this.slots.values()].map((slot) => ({
      name: slot.name,
      version: slot.current?.definition.version ?? null,
      description: slot.current?.definition.description ?? null,
      generation: slot.current?.id ?? null,
      status: slot.current ? 'running' : slot.status,
      lastError: slot.lastError ?? null,
      loadedAt: slot.current?.loadedAt.toISOString() ?? null,
      ...(slot.current ? served(slot.current) : { routes: [], websockets: [], grpc: [] }),
      uses: slot.current?.definition.uses ?? slot.uses,
      health: Object.fromEntries([...(slot.current?.health ?? [])].map(([component, h]) => [component, { ok: h.ok, reason: h.reason ?? null, since: h.since.toISOString() }])),
    }))
  }
}
