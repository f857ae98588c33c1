// What happens to a message whose handler failed, the same on every backend: retry after a
// doubling delay while attempts remain, else dead-letter (or reject). The attempt count
// travels in a header, so retries stay bounded across restarts and backends.
import { errorMessage } from '../errors.ts'
import { ATTEMPT_HEADER, ERROR_HEADER, MAX_RETRY_DELAY_MS, MalformedMessageError, ORIGIN_HEADER, type ResolvedConsumeOptions } from '../queue.ts'

export type FailureOutcome =
  /** Publish a copy with `headers` after `delayMs` (0: at once) to the tail of the queue, then ack the original. */
  | { action: 'retry'; delayMs: number; headers: Record<string, unknown>; reason: string }
  /** Publish a copy with `headers` to `queue`, then ack the original. */
  | { action: 'dead-letter'; queue: string; headers: Record<string, unknown>; reason: string }
  /** Drop it (a dead-letter policy of the broker may still apply). */
  | { action: 'reject'; reason: string }

/** The wait before retry number `attempt` (1 after the first failure): doubling, capped at an hour. */
export function retryDelay(baseMs: number, attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.min(attempt - 1, 30))
}

/**
 * Decides the fate of a message that failed its `attempt`. A malformed body cannot improve
 * with retries and dead-letters at once.
 */
export function afterFailure(
  message: { queue: string; attempt: number; headers: Readonly<Record<string, unknown>> },
  error: unknown,
  options: Pick<ResolvedConsumeOptions, 'maxRetries' | 'retryDelayMs' | 'deadLetter'>,
): FailureOutcome {
  const reason = errorMessage(error)
  const { attempt } = message
  if (!(error instanceof MalformedMessageError) && attempt <= options.maxRetries) {
    return { action: 'retry', delayMs: retryDelay(options.retryDelayMs, attempt), headers: { ...message.headers, [ATTEMPT_HEADER]: attempt + 1 }, reason }
  }
  if (options.deadLetter === false) return { action: 'reject', reason }
  return {
    action: 'dead-letter',
    queue: options.deadLetter,
    headers: { ...message.headers, [ATTEMPT_HEADER]: attempt, [ERROR_HEADER]: reason.slice(0, 1024), [ORIGIN_HEADER]: message.queue },
    reason,
  }
}

/** One log line for a failure: `handler for 'q' failed (attempt 1 of 4): <reason>; retrying in 1000 ms`. */
export function describeFailure(queue: string, attempt: number, maxRetries: number, outcome: FailureOutcome): string {
  const what =
    outcome.action === 'retry'
      ? `retrying ${outcome.delayMs > 0 ? `in ${outcome.delayMs} ms` : 'now'}`
      : outcome.action === 'dead-letter'
        ? `moved to '${outcome.queue}'`
        : 'rejected'
  return `handler for '${queue}' failed (attempt ${attempt} of ${maxRetries + 1}): ${outcome.reason}; ${what}`
}
