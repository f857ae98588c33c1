// Runs a task at most once at a time. A call while it runs gets one follow-up run
// that starts afterwards (shared by every caller in the meantime), so a caller always
// gets a result that began after its call: a final dump never returns a stale one.
export class Coalesced<T> {
  #running: Promise<T> | undefined
  #next: Promise<T> | undefined

  readonly #task: () => Promise<T>

  constructor(task: () => Promise<T>) {
    this.#task = task
  }

  run(): Promise<T> {
    if (!this.#running) return this.#start()
    this.#next ??= this.#running.then(
      () => this.#afterCurrent(),
      () => this.#afterCurrent(),
    )
    return this.#next
  }

  #afterCurrent(): Promise<T> {
    this.#next = undefined
    return this.#start()
  }

  #start(): Promise<T> {
    const run = this.#task()
    this.#running = run
    const clear = () => {
      if (this.#running === run) this.#running = undefined
    }
    run.then(clear, clear)
    return run
  }
}
