// The life of plugin generations: prepare (bundle, import, check), set up, swap in with the
// plugins that use it, drain and retire the old one, unload, and retry a setup that failed.
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Logger } from 'pino'
import { checkClaims } from './claims.ts'
import type { Env, KernelConfig } from './config.ts'
import { resolvePluginConfig } from './plugin-config.ts'
import { orderByUses, parseUses, usedNames } from './dependencies.ts'
import { ConfigError, PluginError, SetupError, errorMessage } from './errors.ts'
import { Generation } from './generation.ts'
import { bundle, checkName, importPlugin, locate, removeBundle, watchPlugins, type Bundle, type PluginPlaces, type PluginSource, type Watcher } from './loader.ts'
import type { KernelMetrics } from './metrics.ts'
import type { PluginDefinition, PluginOperations } from './plugin.ts'
import type { Protocol } from './protocol.ts'
import { queueProvidersFirst } from './queue/provider.ts'
import { KeptResources } from './kept.ts'
import type { PluginRegistry, PluginSlot } from './registry.ts'
import { runStop } from './shutdown.ts'
import type { Tracing } from './tracing/provider.ts'

export interface ReloadResult {
  name: string
  status: 'swapped' | 'unchanged' | 'failed' | 'unloaded' | 'missing'
  generation?: number
  error?: string
}

interface Prepared {
  source: PluginSource
  bundle: Bundle
  definition: PluginDefinition<any>
}

export interface LifecycleDeps {
  config: KernelConfig
  env: Env
  log: Logger
  registry: PluginRegistry
  protocols: Protocol[]
  metrics: KernelMetrics
  tracing: Tracing
  places: PluginPlaces
  buildDir: string
  /** The kernel's operations (ctx.ops). */
  operations: PluginOperations
  /** True once a stop has begun: nothing new is set up. */
  stopping(): boolean
}

export class Lifecycle {
  /** Generations draining after a swap or an unload; a stop waits for them. */
  readonly retiring = new Set<Promise<void>>()
  readonly #d: LifecycleDeps
  /** Reloads run one at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve()
  /** Generations set up but not yet swapped in, visible to ctx.use of their dependents. */
  readonly #pending = new Map<string, Generation>()
  /** What plugins keep across their generations (ctx.keep). */
  readonly #kept = new KeptResources()

  constructor(deps: LifecycleDeps) {
    this.#d = deps
  }

  /** Sets up every source in dependency order (queue providers first); failures are recorded, config errors thrown. */
  async boot(sources: PluginSource[]): Promise<void> {
    const { registry, log } = this.#d
    const prepared = new Map<string, Prepared>()
    await Promise.all(
      sources.map(async (source) => {
        const slot = registry.slot(source.name, source)
        try {
          prepared.set(source.name, await this.#prepare(source, slot.generations + 1))
        } catch (error) {
          registry.fail(slot, error)
        }
      }),
    )
    // Config errors stop the boot before any listener opens.
    const configs = new Map<string, Record<string, unknown>>()
    for (const [name, p] of prepared) configs.set(name, this.#pluginConfig(name, p.definition))
    const byUses = orderByUses(new Map([...prepared].map(([name, p]) => [name, p.definition.uses ?? []])))
    for (const [name, message] of byUses.errors) {
      registry.fail(registry.slot(name), new PluginError(name, message))
      removeBundle(prepared.get(name)!.bundle.file)
    }
    for (const name of queueProvidersFirst(byUses.order, (n) => prepared.get(n)!.definition)) {
      const p = prepared.get(name)!
      const slot = registry.slot(name)
      const blocked = parseUses(p.definition.uses).required.find((dep) => registry.slots.get(dep)?.status !== 'running')
      if (blocked) {
        registry.fail(slot, new PluginError(name, `uses '${blocked}', which failed to start`))
        removeBundle(p.bundle.file)
        continue
      }
      try {
        const gen = await this.#setup(slot, p.definition, p.bundle, configs.get(name)!)
        this.#checkClaims([gen])
        this.#swapIn(gen)
        const routes = this.#d.protocols.flatMap((protocol) => (protocol.describe?.(gen).routes as string[] | undefined) ?? [])
        log.info(`plugin ${name} ${p.definition.version ?? ''} started (generation ${gen.id})${routes.length ? ` at ${routes.join(', ')}` : ''}`.replace('  ', ' '))
      } catch (error) {
        registry.fail(slot, error)
        if (error instanceof SetupError) this.#scheduleRetry(slot)
      }
    }
    await this.update()
  }

  /** Points every protocol at the generations now current. */
  async update(): Promise<void> {
    const current = this.#d.registry.current()
    for (const protocol of this.#d.protocols) await protocol.update(current)
  }

  /** Reloads a plugin (and the plugins that use it) on demand or on a file change. */
  reload(name: string, options: { force?: boolean; reason?: string } = {}): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(name, options))
    this.#queue = run.catch(() => undefined)
    return run
  }

  /** Resolves once no reload is running or queued (a stop waits for that). */
  settled(): Promise<unknown> {
    return this.#queue
  }

  /** Reloads a plugin whenever its files change; resolves once the watcher is ready. */
  async watch(): Promise<Watcher> {
    const { places, log } = this.#d
    const dirs = places.scanPluginsDir ? [places.pluginsDir] : []
    const paths = places.pluginPaths.map((p) => resolve(p))
    const watcher = watchPlugins(dirs, paths, (name) => {
      try {
        checkName(name, 'watch')
      } catch (error) {
        log.error(`plugin refused: ${errorMessage(error)}`)
        return
      }
      void this.reload(name, { reason: 'file change' })
    })
    await watcher.ready
    log.info(`watching ${[...dirs, ...paths].join(', ')} for plugin changes`)
    return watcher
  }

  cancelRetries(): void {
    for (const slot of this.#d.registry.slots.values()) this.#cancelRetry(slot)
  }

  async #reload(name: string, { force = false, reason = 'request' }: { force?: boolean; reason?: string }): Promise<ReloadResult> {
    const { registry, log, metrics } = this.#d
    checkName(name, 'reload')
    if (this.#d.stopping()) return { name, status: 'failed', error: 'the kernel is stopping' }
    let source: PluginSource | undefined
    try {
      source = locate(this.#d.places, name)
    } catch (error) {
      return this.#reloadFailed(registry.slot(name), error)
    }
    if (!source) return registry.slots.has(name) ? this.#unload(name) : { name, status: 'missing' }
    const slot = registry.slot(name, source)
    const started = performance.now()
    let prepared: Prepared
    let config: Record<string, unknown>
    try {
      prepared = await this.#prepare(source, slot.generations + 1)
      if (!force && slot.current && prepared.bundle.hash === slot.current.bundle?.hash) {
        // Back to the code that serves (a broken edit undone): its error is no longer news.
        slot.lastError = undefined
        return { name, status: 'unchanged', generation: slot.current.id }
      }
      config = this.#pluginConfig(name, prepared.definition)
      const missing = parseUses(prepared.definition.uses).required.find((dep) => !registry.slots.get(dep)?.current)
      if (missing) throw new PluginError(name, `uses '${missing}', which is not running`)
    } catch (error) {
      return this.#reloadFailed(slot, error)
    }

    // The plugins that use this one get new generations too, wired to the new API.
    const chain = [name, ...registry.dependents(name)]
    const fresh: Generation[] = []
    try {
      for (const member of chain) {
        const memberSlot = registry.slot(member)
        const definition = member === name ? prepared.definition : memberSlot.current!.definition
        const memberConfig = member === name ? config : this.#pluginConfig(member, definition)
        const built = member === name ? prepared.bundle : memberSlot.current!.bundle
        const gen = await this.#setup(memberSlot, definition, built, memberConfig)
        fresh.push(gen)
        this.#pending.set(member, gen)
      }
      this.#checkClaims(fresh)
      if (this.#d.stopping()) throw new PluginError(name, 'the kernel began stopping during the reload')
    } catch (error) {
      for (const gen of fresh) await this.#stopGeneration(gen, 'reload abandoned')
      if (prepared.bundle !== slot.current?.bundle) removeBundle(prepared.bundle.file)
      return this.#reloadFailed(slot, error)
    } finally {
      for (const member of chain) this.#pending.delete(member)
    }
    // One synchronous block: every dispatch table points at the new generations at once.
    const retired = fresh.flatMap((gen) => this.#swapIn(gen) ?? [])
    await this.update()
    for (const old of retired) this.#retire(old)
    metrics.reloads.inc({ plugin: name, result: 'ok' })
    const ms = Math.round(performance.now() - started)
    log.info(`plugin ${name} generation ${fresh[0]!.id} swapped in (${reason}, ${ms} ms)${chain.length > 1 ? `; also renewed ${chain.slice(1).join(', ')}` : ''}`)
    for (const member of chain) this.#cancelRetry(registry.slot(member))
    this.#startFailedDependents(chain)
    return { name, status: 'swapped', generation: fresh[0]!.id }
  }

  #swapIn(gen: Generation): Generation | undefined {
    const old = this.#d.registry.swapIn(gen)
    for (const protocol of this.#d.protocols) protocol.swappedIn?.(gen)
    return old
  }

  #checkClaims(generations: Generation[]): void {
    const claimsOf = (gen: Generation) => ({ plugin: gen.name, claims: this.#d.protocols.flatMap((p) => p.claims?.(gen) ?? []) })
    checkClaims(this.#d.registry.current().map(claimsOf), generations.map(claimsOf), (plugin, message) => new PluginError(plugin, message))
  }

  /** Plugins that failed because something they use was down get set up once it runs. */
  #startFailedDependents(started: string[]): void {
    const { slots } = this.#d.registry
    for (const slot of slots.values()) {
      if (slot.current || slot.status !== 'failed' || !usedNames(slot.uses).some((dep) => started.includes(dep))) continue
      const { required } = parseUses(slot.uses)
      if (required.every((dep) => slots.get(dep)?.current)) void this.reload(slot.name, { reason: `'${required.join("', '")}' running` })
    }
  }

  /** Tries a failed setup again after a growing delay, a bounded number of times. */
  #scheduleRetry(slot: PluginSlot): void {
    const { retryMs, retryMaxMs, retryAttempts } = this.#d.config.setup
    if (retryMs === 0 || this.#d.stopping() || slot.current) return
    const attempt = (slot.retry?.attempt ?? 0) + 1
    if (attempt > retryAttempts) {
      this.#d.log.error(`plugin ${slot.name}: giving up after ${retryAttempts} setup attempts; reload it to try again`)
      slot.retry = undefined
      return
    }
    const wait = Math.min(retryMaxMs, retryMs * 2 ** (attempt - 1))
    this.#d.log.warn(`plugin ${slot.name}: setup attempt ${attempt + 1} of ${retryAttempts + 1} in ${wait} ms`)
    const timer = setTimeout(() => {
      void this.reload(slot.name, { reason: `setup attempt ${attempt + 1}` }).then((result) => {
        if (result.status === 'failed' && this.#d.registry.slots.get(slot.name) === slot && !slot.current) this.#scheduleRetry(slot)
      })
    }, wait)
    timer.unref()
    slot.retry = { attempt, timer }
  }

  #cancelRetry(slot: PluginSlot): void {
    if (slot.retry?.timer) clearTimeout(slot.retry.timer)
    slot.retry = undefined
  }

  #reloadFailed(slot: PluginSlot, error: unknown): ReloadResult {
    this.#d.registry.fail(slot, error)
    this.#d.metrics.reloads.inc({ plugin: slot.name, result: 'failed' })
    return { name: slot.name, status: 'failed', error: errorMessage(error), ...(slot.current ? { generation: slot.current.id } : {}) }
  }

  async #unload(name: string): Promise<ReloadResult> {
    const { registry } = this.#d
    const chain = [...registry.dependents(name).reverse(), name]
    for (const member of chain) {
      const slot = registry.slots.get(member)
      if (!slot) continue
      const old = slot.current
      slot.current = undefined
      slot.status = 'stopped'
      if (member !== name) slot.lastError = `stopped because '${name}', which it uses, was removed`
      if (old) this.#retire(old)
      if (member === name) registry.slots.delete(name)
    }
    await this.update()
    this.#d.log.info(`plugin ${name} unloaded (its source is gone)${chain.length > 1 ? `; also stopped ${chain.slice(0, -1).join(', ')}` : ''}`)
    return { name, status: 'unloaded' }
  }

  /** An old generation finishes its in-flight requests, then runs its stop entries. */
  #retire(gen: Generation): void {
    const drainMs = this.#d.config.drainTimeoutMs
    const done = (async () => {
      // Long-lived connections of the old code are let go at once (WebSocket clients reconnect: 1012).
      const leaving = Promise.all(this.#d.protocols.flatMap((p) => (p.retire ? [p.retire(gen, drainMs)] : [])))
      if (!(await gen.drained(drainMs))) {
        gen.log.warn(`generation ${gen.id} still had ${gen.inflight} requests or calls in flight after ${drainMs} ms; ending its streams`)
        for (const protocol of this.#d.protocols) protocol.abandon?.(gen)
      }
      await leaving
      await this.#stopGeneration(gen, 'retired')
    })()
    this.retiring.add(done)
    void done.finally(() => this.retiring.delete(done))
  }

  async #stopGeneration(gen: Generation, why: string): Promise<void> {
    for (const protocol of this.#d.protocols) await protocol.released?.(gen)
    gen.abort.abort(new Error(`plugin ${gen.name} generation ${gen.id} ${why}`))
    if (gen.stops.length) {
      const { timeoutMs, order } = this.#d.config.shutdown
      await runStop(gen.stops, { log: gen.log, deadlineMs: timeoutMs, order, label: `plugin ${gen.name} generation ${gen.id} (${why})` })
    }
    if (gen.bundle && ![...this.#d.registry.slots.values()].some((s) => s.current?.bundle?.file === gen.bundle!.file)) removeBundle(gen.bundle.file)
  }

  async #prepare(source: PluginSource, generation: number): Promise<Prepared> {
    let built: Bundle
    try {
      built = await bundle(source, this.#d.buildDir)
    } catch (error) {
      throw new PluginError(source.name, errorMessage(error))
    }
    let definition: PluginDefinition<any>
    try {
      definition = await importPlugin(built.file, generation)
    } catch (error) {
      removeBundle(built.file)
      throw new PluginError(source.name, `import failed: ${errorMessage(error)}`, { cause: error })
    }
    if (definition.name !== source.name) {
      removeBundle(built.file)
      throw new PluginError(source.name, `definePlugin name '${definition.name}' does not match its folder or file name '${source.name}'`)
    }
    this.#d.registry.slot(source.name).uses = definition.uses ?? []
    return { source, bundle: built, definition }
  }

  #pluginConfig(name: string, definition: PluginDefinition<any>): Record<string, unknown> {
    return resolvePluginConfig(name, definition.config, this.#d.config.plugins[name], this.#d.env)
  }

  async #setup(slot: PluginSlot, definition: PluginDefinition<any>, built: Bundle | undefined, config: Record<string, unknown>): Promise<Generation> {
    const { config: kernelConfig, registry } = this.#d
    const id = ++slot.generations
    const log = this.#d.log.child({ plugin: slot.name, generation: id })
    const gen = new Generation(slot.name, id, definition, built, log)
    const dataDir = join(kernelConfig.dataDir, slot.name)
    try {
      await gen.setup({
        log,
        metrics: this.#d.metrics.forPlugin(slot.name),
        tracer: this.#d.tracing.tracer(slot.name, definition.version),
        config,
        env: this.#d.env,
        dir: slot.source?.root ?? kernelConfig.pluginsDir,
        protocols: this.#d.protocols,
        kernel: {
          adminToken: kernelConfig.adminToken,
          get dataDir() {
            mkdirSync(dataDir, { recursive: true })
            return dataDir
          },
          dev: kernelConfig.dev,
        },
        lookup: (name) => {
          const provider = this.#pending.get(name) ?? registry.slots.get(name)?.current
          return provider ? { found: true, api: provider.api } : { found: false, api: undefined }
        },
        operations: this.#d.operations,
        kept: this.#kept,
      })
      return gen
    } catch (error) {
      // Whatever the failed setup registered is released, so a retry starts clean.
      await this.#stopGeneration(gen, 'setup failed')
      if (error instanceof ConfigError) throw error
      throw new SetupError(slot.name, error instanceof PluginError ? error.message.replace(`plugin '${slot.name}': `, '') : `setup failed: ${errorMessage(error)}`, {
        cause: error,
      })
    }
  }
}
