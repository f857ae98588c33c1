// Which upstream hosts a registered route may point at. Hosts are checked as written, with
// no DNS lookup: a name resolves differently later (DNS rebinding), so only names listed
// verbatim pass, and addresses must fall in a listed network.
import { BlockList, isIP } from 'node:net'
import { ProxyOptionError } from './errors.ts'

export const LOOPBACK_ONLY = ['127.0.0.0/8', '::1', 'localhost'] as const

export class TargetAllowList {
  readonly entries: readonly string[]
  readonly #networks = new BlockList()
  readonly #names = new Set<string>()
  #any = false

  constructor(entries: readonly string[]) {
    this.entries = entries
    for (const entry of entries) {
      const trimmed = entry.trim().toLowerCase()
      if (trimmed === '*') {
        this.#any = true
        continue
      }
      const [address, bits, ...rest] = trimmed.split('/')
      const family = isIP(address ?? '')
      if (family === 0) {
        if (bits !== undefined || !/^[a-z0-9.-]+$/.test(trimmed)) {
          throw new ProxyOptionError('allowedTargets', entry, 'each entry is an IP address, a CIDR network (127.0.0.0/8, fd00::/8), a host name, or * for any host')
        }
        this.#names.add(trimmed)
        continue
      }
      const type = family === 4 ? 'ipv4' : 'ipv6'
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
      if (rest.length || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new ProxyOptionError('allowedTargets', entry, `the prefix length of an IPv${family} network is 0-${family === 4 ? 32 : 128}`)
      }
      this.#networks.addSubnet(address!, prefix, type)
    }
  }

  /** `hostname` as URL gives it (IPv6 in brackets). */
  allows(hostname: string): boolean {
    if (this.#any) return true
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
    const family = isIP(host)
    if (family === 0) return this.#names.has(host)
    return this.#networks.check(host, family === 4 ? 'ipv4' : 'ipv6')
  }
}
