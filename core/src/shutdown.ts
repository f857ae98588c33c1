// The priority registry: stop entries run phase by phase, in parallel within a phase,
// each under its own timeout and all under one global deadline.
import type { Logger } from 'pino'
import { Phase } from './plugin.ts'

export interface StopEntry {
  /** `http`, `https`, `plugin:<name>:<entry>`: what `shutdown.order` keys match. */
  id: string
  phase: number
  timeoutMs: number
  fn: () => unknown
  force?: () => void
}

export interface StopReport {
  ok: boolean
  durationMs: number
  /** id -> outcome, for tests and the log. */
  outcomes: Map<string, 'ok' | 'failed' | 'timeout' | 'skipped'>
  /** The phases in the order they ran, with their entries. */
  order: Array<{ phase: number; ids: string[] }>
}

const PHASE_NAMES = new Map<number, string>(Object.entries(Phase).map(([name, n]) => [n, name]))

export function phaseLabel(phase: number): string {
  const name = PHASE_NAMES.get(phase)
  return name ? `${phase} ${name}` : String(phase)
}

/** The phase an entry runs in: the longest matching `order` key (exact id, then `a:b`, then `a`) wins. */
export function effectivePhase(entry: Pick<StopEntry, 'id' | 'phase'>, order: Record<string, number>): number {
  const parts = entry.id.split(':')
  for (let n = parts.length; n > 0; n--) {
    const key = parts.slice(0, n).join(':')
    if (key in order) return order[key]!
  }
  return entry.phase
}

export function planStop<E extends Pick<StopEntry, 'id' | 'phase'>>(entries: E[], order: Record<string, number>): Array<{ phase: number; entries: E[] }> {
  const byPhase = new Map<number, E[]>()
  for (const entry of entries) {
    const phase = effectivePhase(entry, order)
    const list = byPhase.get(phase) ?? []
    list.push(entry)
    byPhase.set(phase, list)
  }
  return [...byPhase.entries()].sort(([a], [b]) => a - b).map(([phase, list]) => ({ phase, entries: list }))
}

export interface RunStopOptions {
  log: Logger
  order?: Record<string, number>
  deadlineMs: number
  /** Called as each phase begins, before its entries run. */
  onPhase?: (phase: number) => void
  /** What is being stopped, for the log: "shutdown" or "plugin hello generation 3". */
  label?: string
}

export async function runStop(entries: StopEntry[], options: RunStopOptions): Promise<StopReport> {
  const { log, deadlineMs } = options
  const started = Date.now()
  const deadline = started + deadlineMs
  const plan = planStop(entries, options.order ?? {})
  const outcomes: StopReport['outcomes'] = new Map()
  const label = options.label ?? 'stop'
  log.info(
    { order: plan.map((p) => ({ phase: p.phase, entries: p.entries.map((e) => e.id) })) },
    `${label} order: ${plan.map((p) => `${phaseLabel(p.phase)} [${p.entries.map((e) => e.id).join(', ')}]`).join(' -> ') || '(nothing to stop)'}`,
  )

  for (const { phase, entries: list } of plan) {
    options.onPhase?.(phase)
    const phaseStart = Date.now()
    const remaining = deadline - phaseStart
    if (remaining <= 0) {
      for (const entry of list) {
        outcomes.set(entry.id, 'skipped')
        safeForce(entry, log)
      }
      log.warn(`${label} phase ${phaseLabel(phase)}: global deadline passed; forced ${list.map((e) => e.id).join(', ')}`)
      continue
    }
    await Promise.all(list.map((entry) => runEntry(entry, Math.min(entry.timeoutMs, remaining), log, outcomes)))
    const failed = list.filter((e) => outcomes.get(e.id) !== 'ok').map((e) => `${e.id} (${outcomes.get(e.id)})`)
    const line = `${label} phase ${phaseLabel(phase)} done in ${Date.now() - phaseStart} ms: ${list.map((e) => e.id).join(', ')}`
    if (failed.length) log.warn(`${line}; not clean: ${failed.join(', ')}`)
    else log.info(line)
  }
  const ok = [...outcomes.values()].every((o) => o === 'ok')
  return { ok, durationMs: Date.now() - started, outcomes, order: plan.map((p) => ({ phase: p.phase, ids: p.entries.map((e) => e.id) })) }
}

async function runEntry(entry: StopEntry, timeoutMs: number, log: Logger, outcomes: StopReport['outcomes']): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  try {
    const result = await Promise.race([
      Promise.resolve()
        .then(entry.fn)
        .then(() => 'ok' as const),
      timeout,
    ])
    outcomes.set(entry.id, result)
    if (result === 'timeout') {
      log.warn(`stop entry ${entry.id} exceeded ${timeoutMs} ms; forced, going on`)
      safeForce(entry, log)
    }
  } catch (error) {
    outcomes.set(entry.id, 'failed')
    log.error(`stop entry ${entry.id} failed: ${(error as Error)?.message ?? error}`)
  } finally {
    clearTimeout(timer)
  }
}

function safeForce(entry: StopEntry, log: Logger): void {
  try {
    entry.force?.()
  } catch (error) {
    log.error(`forcing ${entry.id} failed: ${(error as Error)?.message ?? error}`)
  }
}
