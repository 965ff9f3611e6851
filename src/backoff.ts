/**
 * When a failed model request is tried again, and after how long: the codes
 * worth another attempt, and exponential backoff with full jitter.
 */
import type { ErrorCode } from './errors.js'
import type { ResolvedRetry } from './routes.js'

/** Codes on which a model turn is tried again: the provider may well answer the next time. */
export const retryableCodes: ReadonlySet<ErrorCode> = new Set(['provider.unavailable', 'provider.rate_limited', 'provider.timeout', 'provider.bad_response'])

/**
 * The wait after failed attempt `attempt` (from 1): a random time up to
 * `baseDelayMs * 2^(attempt - 1)` (full jitter), at most `maxDelayMs`; a
 * provider's `Retry-After` is waited instead, also at most `maxDelayMs`.
 */
export function backoffMs(retry: ResolvedRetry, attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, retry.maxDelayMs)
  return Math.round(random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)))
}
