// Start order from `uses`: each plugin after the plugins it uses; missing ones and cycles are named.
// A name ending in `?` is optional: started first when it is loaded, ignored when it is not.

export interface Uses {
  /** Plugins that must run for this one to start. */
  required: string[]
  /** Plugins started first when present; `ctx.use` answers undefined without them. */
  optional: string[]
}

export function parseUses(uses: readonly string[] | undefined): Uses {
  const required: string[] = []
  const optional: string[] = []
  for (const entry of uses ?? []) (entry.endsWith('?') ? optional : required).push(entry.endsWith('?') ? entry.slice(0, -1) : entry)
  return { required, optional }
}

/** Every plugin named in `uses`, required or optional. */
export function usedNames(uses: readonly string[] | undefined): string[] {
  const { required, optional } = parseUses(uses)
  return [...required, ...optional]
}

export function orderByUses(raw: Map<string, readonly string[]>): { order: string[]; errors: Map<string, string> } {
  const errors = new Map<string, string>()
  const parsed = new Map([...raw].map(([name, deps]) => [name, parseUses(deps)]))
  // Optional plugins that are not loaded drop out; loaded ones order like required ones.
  const uses = new Map([...parsed].map(([name, { required, optional }]) => [name, [...required, ...optional.filter((d) => raw.has(d))]]))
  for (const [name, { required: deps }] of parsed) {
    const missing = deps.filter((d) => !uses.has(d))
    if (missing.length) errors.set(name, `uses ${missing.map((m) => `'${m}'`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not loaded`)
  }
  const order: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name]
      for (const member of cycle) errors.set(member, `dependency cycle: ${cycle.join(' -> ')}`)
      return
    }
    state.set(name, 'visiting')
    for (const dep of uses.get(name) ?? []) if (uses.has(dep)) visit(dep, [...path, name])
    state.set(name, 'done')
    order.push(name)
  }
  for (const name of [...uses.keys()].sort()) visit(name, [])
  // A plugin that uses a failed one cannot start either.
  let changed = true
  while (changed) {
    changed = false
    for (const [name, { required: deps }] of parsed) {
      if (errors.has(name)) continue
      const bad = deps.find((d) => errors.has(d))
      if (bad) {
        errors.set(name, `uses '${bad}', which cannot start`)
        changed = true
      }
    }
  }
  return { order: order.filter((n) => !errors.has(n)), errors }
}
