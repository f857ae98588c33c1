// Acknowledgements in bulk: handlers that finish within one turn of the event loop are
// acknowledged by one basic.ack with `multiple` (every delivery tag up to the last), one frame
// for the broker and the socket instead of one per message; RabbitMQ delivers about twice as
// many messages a second that way. Only a run starting at the oldest outstanding delivery can
// be covered by one frame: a message settled behind one still being handled is acknowledged on
// its own shortly after, so a slow handler never holds back the others' acks (nor the prefetch).
import type { Channel, Message } from 'amqplib'

/** running: its handler has not finished; ack: to be acknowledged; settled: the broker was told already. */
type State = 'running' | 'ack' | 'settled'

export interface TrackedDelivery {
  readonly delivery: Message
  state: State
}

export class AckBatcher {
  readonly #channel: Channel
  readonly #stragglerDelayMs: number
  /** Deliveries in the order of their tags (the broker delivers in that order on one channel). */
  #entries: TrackedDelivery[] = []
  #head = 0
  #flushScheduled = false
  #stragglerTimer: NodeJS.Timeout | undefined

  constructor(channel: Channel, stragglerDelayMs = 5) {
    this.#channel = channel
    this.#stragglerDelayMs = stragglerDelayMs
  }

  track(delivery: Message): TrackedDelivery {
    const entry: TrackedDelivery = { delivery, state: 'running' }
    this.#entries.push(entry)
    return entry
  }

  /** The handler succeeded: acknowledged with the others settled in this turn. */
  ack(entry: TrackedDelivery): void {
    entry.state = 'ack'
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      this.flush()
    })
  }

  /** The caller told the broker itself (nack, requeue, reject). */
  settled(entry: TrackedDelivery): void {
    entry.state = 'settled'
  }

  /** Acknowledges the settled run at the head with one frame; what waits behind a running one is acknowledged alone soon. */
  flush(): void {
    this.#ackHead()
    if (this.#stragglerTimer !== undefined) return
    for (let i = this.#head; i < this.#entries.length; i++) {
      if (this.#entries[i]!.state !== 'ack') continue
      this.#stragglerTimer = setTimeout(() => {
        this.#stragglerTimer = undefined
        this.#ackStragglers()
      }, this.#stragglerDelayMs)
      return
    }
  }

  /** Acknowledges everything settled now (before the channel closes, which would requeue it). */
  close(): void {
    clearTimeout(this.#stragglerTimer)
    this.#stragglerTimer = undefined
    this.#ackStragglers()
  }

  #ackHead(): void {
    let last: TrackedDelivery | undefined
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.state !== 'running') {
      const entry = this.#entries[this.#head++]!
      // Only a tag still outstanding may end a multiple ack (RabbitMQ refuses an unknown one).
      if (entry.state === 'ack') last = entry
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
    if (last) this.#send(last.delivery, true)
  }

  #ackStragglers(): void {
    this.#ackHead()
    for (let i = this.#head; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!
      if (entry.state !== 'ack') continue
      entry.state = 'settled'
      this.#send(entry.delivery, false)
    }
  }

  #send(delivery: Message, multiple: boolean): void {
    try {
      this.#channel.ack(delivery, multiple)
    } catch {
      // IllegalOperationError: channel closed. Its deliveries return to the queue (at-least-once).
    }
  }
}
