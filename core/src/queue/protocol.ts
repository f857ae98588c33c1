// The queue port as a kernel protocol: ctx.queue, a provider's backend takes over in the swap,
// a stopped generation's consumers are cancelled, and the port contributes its own stop entries.
import type { Generation } from '../generation.ts'
import type { PluginContext } from '../plugin.ts'
import type { Binding, Protocol } from '../protocol.ts'
import type { StopEntry } from '../shutdown.ts'
import type { QueuePort } from './port.ts'

export class QueueProtocol implements Protocol {
  readonly name = 'queue'

  constructor(
    readonly port: QueuePort,
    readonly stopTimeoutMs: number,
  ) {}

  context({ gen }: Binding): Pick<PluginContext, 'queue' | 'amqp'> {
    const queue = this.port.bind(gen)
    return { queue, amqp: queue }
  }

  setUp(gen: Generation): void {
    this.port.afterSetup(gen)
  }

  update(): void {}

  swappedIn(gen: Generation): void {
    this.port.swappedIn(gen)
  }

  released(gen: Generation): Promise<void> {
    return this.port.retire(gen)
  }

  stopEntries(): StopEntry[] {
    return this.port.stopEntries(this.stopTimeoutMs)
  }
}
