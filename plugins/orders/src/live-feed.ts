// Newly stored orders, pushed to every open page: each subscriber gets the text to send.
export type Subscriber = (text: string) => void

export class LiveFeed {
  readonly #subscribers = new Set<Subscriber>()

  get size(): number {
    return this.#subscribers.size
  }

  /** Returns the function that ends the subscription. */
  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber)
    return () => this.#subscribers.delete(subscriber)
  }

  /** `orderJson` is the order's JSON text; it is framed once for every subscriber. */
  stored(orderJson: string): void {
    if (this.#subscribers.size === 0) return
    const text = `{"type":"stored","order":${orderJson}}`
    for (const subscriber of this.#subscribers) subscriber(text)
  }
}
