// Which route a request path belongs to, and the path the upstream receives.
import { Balancer } from './balancer.ts'
import type { RouteSpec } from './validation.ts'

export interface Route {
  spec: RouteSpec
  balancer: Balancer
}

export interface RouteMatch {
  route: Route
  /** Path and query as the upstream sees them (prefix stripped when asked, target base prepended). */
  upstreamPath: (target: URL) => string
}

export class RouteTable {
  /** Longest prefix first, so `/api/v2` wins over `/api`. */
  readonly routes: readonly Route[]

  constructor(specs: readonly RouteSpec[], cooldownMs: number, previous?: RouteTable) {
    this.routes = specs
      .map((spec) => {
        const balancer = new Balancer(spec.targets, cooldownMs, Date.now, previous?.routes.find((r) => r.spec.path === spec.path)?.balancer)
        // A target held out by a health check the route no longer has would never come back.
        if (!spec.healthCheck) balancer.releaseHolds()
        return { spec, balancer }
      })
      .sort((a, b) => b.spec.path.length - a.spec.path.length)
  }

  match(rawUrl: string): RouteMatch | undefined {
    const queryAt = rawUrl.indexOf('?')
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt)
    const query = queryAt === -1 ? '' : rawUrl.slice(queryAt)
    const route = this.routes.find(({ spec }) => spec.path === '/' || path === spec.path || path.startsWith(spec.path + '/'))
    if (!route) return undefined
    const rest = route.spec.strip && route.spec.path !== '/' ? path.slice(route.spec.path.length) || '/' : path
    return {
      route,
      upstreamPath: (target) => {
        const base = target.pathname.replace(/\/$/, '')
        return (base + rest || '/') + query
      },
    }
  }
}
