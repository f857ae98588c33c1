// The proxy plugin's domain, usable without the kernel: servers, routes, balancing, forwarding.
export { ServerRegistry } from './registry.ts'
export { Forwarder, answeredBy } from './forwarder.ts'
export { TargetAllowList, LOOPBACK_ONLY } from './allow-list.ts'
export { Balancer } from './balancer.ts'
export { RouteTable } from './route-table.ts'
