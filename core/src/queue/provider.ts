// What a plugin that provides a queue backend declares and hands over, checked before the
// port relies on it.
import { usedNames } from '../dependencies.ts'
import { PluginError } from '../errors.ts'
import { PLUGIN_NAME } from '../plugin.ts'
import type { QueueBackend } from '../queue.ts'
import type { QueueOwner } from './kept-consumer.ts'

/** The plugin declares `provides: ['queue']`. */
export function providesQueue(owner: Pick<QueueOwner, 'definition'>): boolean {
  return owner.definition.provides?.includes('queue') ?? false
}

const BACKEND_METHODS = ['publish', 'consume', 'close', 'describe'] as const

export function checkBackend(plugin: string, backend: unknown): asserts backend is QueueBackend {
  if (!backend || typeof backend !== 'object')
    throw new PluginError(plugin, `ctx.queue.provideBackend: expected a QueueBackend object, got ${backend === null ? 'null' : typeof backend}`)
  const candidate = backend as Partial<Record<string, unknown>>
  if (typeof candidate.name !== 'string' || !PLUGIN_NAME.test(candidate.name)) {
    throw new PluginError(plugin, `ctx.queue.provideBackend: the backend's name ${JSON.stringify(candidate.name)} must match [a-z0-9-]+`)
  }
  const missing = BACKEND_METHODS.filter((method) => typeof candidate[method] !== 'function')
  if (missing.length) throw new PluginError(plugin, `ctx.queue.provideBackend: backend '${candidate.name}' has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}`)
}

/**
 * The boot order with the queue providers, and what they use, moved to the front (each
 * group keeps its order), so a provider is set up before the plugins that may consume.
 * The rest of the order stays valid: what a provider uses (optionally or not) moves with it.
 */
export function queueProvidersFirst(order: string[], definitionOf: (name: string) => { uses?: readonly string[] | undefined; provides?: readonly string[] | undefined }): string[] {
  const first = new Set<string>()
  const visit = (name: string): void => {
    if (first.has(name) || !order.includes(name)) return
    first.add(name)
    for (const dep of usedNames(definitionOf(name).uses)) visit(dep)
  }
  for (const name of order) if (providesQueue({ definition: definitionOf(name) })) visit(name)
  return [...order.filter((n) => first.has(n)), ...order.filter((n) => !first.has(n))]
}
