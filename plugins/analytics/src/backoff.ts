// The delay before a failed row is tried again: doubling from `baseMs`, capped at `maxMs`, with
// "equal jitter" (half fixed, half random) so rows that failed together do not return together.

export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

/** `attempt` is the attempt that failed (1 for the first). */
export function retryDelayMs(attempt: number, { baseMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)))
  return Math.round(exponential / 2 + (exponential / 2) * random())
}
