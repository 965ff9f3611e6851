/**
 * What an AI SDK provider throws (its `APICallError`, found by shape: any copy
 * of `@ai-sdk/provider` fits), or puts in an `error` stream part, as a
 * {@link ProviderError}: 401/403 `provider.auth`, 429 `provider.rate_limited`
 * (with the `Retry-After` wait), 408 `provider.timeout`, 413 or a
 * prompt-too-long message `provider.context_length`, 5xx and 409
 * `provider.unavailable`, 404 `provider.bad_response`, other 4xx
 * `provider.bad_request`; without a status, a retryable error or a failed
 * connection is `provider.unavailable`, anything else `provider.bad_response`.
 */
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js'
import { retryAfterMsOf } from '../../src/provider-stream.js'

const tooLong = /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|input is too long|exceeds the (?:maximum|limit)/i

interface CallErrorShape {
  message?: unknown
  statusCode?: unknown
  isRetryable?: unknown
  responseHeaders?: unknown
  responseBody?: unknown
  name?: unknown
}

function codeOf(status: number | undefined, text: string, retryable: boolean, name: string): ProviderErrorCode {
  if (status === 401 || status === 403) return 'provider.auth'
  if (status === 429) return 'provider.rate_limited'
  if (status === 408) return 'provider.timeout'
  if (status === 413 || tooLong.test(text)) return 'provider.context_length'
  if (status !== undefined && (status >= 500 || status === 409)) return 'provider.unavailable'
  if (status === 404) return 'provider.bad_response'
  if (status !== undefined && status >= 400) return 'provider.bad_request'
  // fetch's own failure (a refused or reset connection) is a TypeError named so.
  if (retryable || /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|terminated/i.test(`${name} ${text}`)) return 'provider.unavailable'
  return 'provider.bad_response'
}

/** A ProviderError for what a model threw or streamed as an error. */
export function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error
  const shape = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as CallErrorShape
  const message = typeof shape.message === 'string' ? shape.message : String(error)
  const status = typeof shape.statusCode === 'number' ? shape.statusCode : undefined
  const body = typeof shape.responseBody === 'string' ? shape.responseBody : ''
  const code = codeOf(status, `${message} ${body}`, shape.isRetryable === true, typeof shape.name === 'string' ? shape.name : '')
  const headers = shape.responseHeaders
  const retryAfterMs =
    typeof headers === 'object' && headers !== null
      ? retryAfterMsOf({ get: (name: string) => (headers as Record<string, unknown>)[name] as string | null ?? null })
      : undefined
  return new ProviderError(code, status === undefined ? `The model failed: ${message}` : `The model failed (HTTP ${status}): ${message}`, {
    cause: error,
    ...(status === undefined ? {} : { status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  })
}
