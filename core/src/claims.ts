// What generations claim on the servers (route bases, WebSocket paths, gRPC methods), and the
// check that refuses a set of new generations whose claims collide. Pure: no kernel needed.

/** One thing only one plugin may own: `{ kind: 'route base', key: '/cache' }`. */
export interface Claim {
  kind: string
  key: string
}

export interface Claimant {
  plugin: string
  claims: Claim[]
}

/**
 * Throws (via `refuse`) when an incoming plugin claims what another one already holds, or what
 * another incoming one claims. Claims of plugins being replaced (in `incoming`) do not count.
 */
export function checkClaims(current: Claimant[], incoming: Claimant[], refuse: (plugin: string, message: string) => Error): void {
  const replacing = new Set(incoming.map((c) => c.plugin))
  const owners = new Map<string, string>()
  const id = (claim: Claim) => `${claim.kind}\u0000${claim.key}`
  for (const { plugin, claims } of current) {
    if (replacing.has(plugin)) continue
    for (const claim of claims) owners.set(id(claim), plugin)
  }
  for (const { plugin, claims } of incoming) {
    for (const claim of claims) {
      const owner = owners.get(id(claim))
      if (owner && owner !== plugin) throw refuse(plugin, `${claim.kind} ${claim.key} is already claimed by plugin '${owner}'`)
      owners.set(id(claim), plugin)
    }
  }
}
