// The fault-test TCP proxy of the core, with the Redis URL that reaches through it.
import { startTcpProxy as startCoreTcpProxy, type TcpProxy as CoreTcpProxy } from '@armature/testing'

export interface TcpProxy extends CoreTcpProxy {
  /** `redis://` URL of the proxy. */
  readonly url: string
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const proxy = await startCoreTcpProxy(target)
  return Object.assign(proxy, { url: `redis://${proxy.host}:${proxy.port}` })
}
