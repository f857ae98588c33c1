// What other plugins get with `ctx.use('analytics')`.
import type { Processor } from './processor.ts'
import type { Backlog } from './queries.ts'

export interface AnalyticsApi {
  /**
   * Adds a processing step after the built-in one, on this instance's workers. Pass your plugin's
   * `ctx.signal` so a reload of your plugin removes the old step; the returned function removes it too.
   */
  addProcessor(name: string, processor: Processor, options?: { signal?: AbortSignal }): () => void
  /** Names of the steps added, in order. */
  processors(): string[]
  backlog(): Promise<Backlog>
}
