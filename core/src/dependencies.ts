// Start order from `uses`: each plugin after the plugins it uses; missing ones and cycles are named.

export function orderByUses(uses: Map<string, string[]>): { order: string[]; errors: Map<string, string> } {
  const errors = new Map<string, string>()
  for (const [name, deps] of uses) {
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
    for (const [name, deps] of uses) {
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
