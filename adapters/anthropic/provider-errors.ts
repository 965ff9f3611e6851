/**
 * Maps what `@anthropic-ai/sdk` throws to a {@link ProviderError} whose code
 * says what a user can do about it: 401/403 `provider.auth`; 400
 * `provider.bad_request`, or `provider.context_length` when the prompt is too
 * long (also 413); 429 `provider.rate_limited` with the `Retry-After` wait;
 * 529 (overloaded) and 5xx `provider.unavailable`. An `error` event inside a
 * stream has no status: its error type decides. The original error stays as
 * `cause`, the status as `status`.
 */
import type { APIConnectionError, APIConnectionTimeoutError, APIError, AnthropicError } from '@anthropic-ai/sdk'
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js'
import { retryAfterMsOf } from '../../src/provider-stream.js'

/** The error classes of the loaded `@anthropic-ai/sdk` module (the module itself fits). */
export interface AnthropicErrorClasses {
  AnthropicError: typeof AnthropicError
  APIError: typeof APIError
  APIConnectionError: typeof APIConnectionError
  APIConnectionTimeoutError: typeof APIConnectionTimeoutError
}

const tooLong = /prompt is too long|too many tokens|context window|context length|exceeds? the maximum/i

/** Anthropic's error types, as sent in an error body or a stream's `error` event. */
const codeByType: Readonly<Record<string, ProviderErrorCode>> = {
  authentication_error: 'provider.auth',
  permission_error: 'provider.auth',
  rate_limit_error: 'provider.rate_limited',
  overloaded_error: 'provider.unavailable',
  api_error: 'provider.unavailable',
  timeout_error: 'provider.timeout',
  request_too_large: 'provider.context_length',
  not_found_error: 'provider.bad_response',
}

function codeOf(status: number | undefined, type: string | null | undefined, message: string): ProviderErrorCode {
  if (status === 401 || status === 403) return 'provider.auth'
  if (status === 429) return 'provider.rate_limited'
  if (status === 408) return 'provider.timeout'
  if (status === 413) return 'provider.context_length'
  if (status !== undefined && (status >= 500 || status === 409)) return 'provider.unavailable'
  if (tooLong.test(message)) return 'provider.context_length'
  if (status === 404) return 'provider.bad_response'
  if (status !== undefined) return 'provider.bad_request'
  if (typeof type === 'string' && Object.hasOwn(codeByType, type)) return codeByType[type] as ProviderErrorCode
  return type === 'invalid_request_error' ? 'provider.bad_request' : 'provider.bad_response'
}

const hints: Readonly<Record<ProviderErrorCode, string>> = {
  'provider.auth': 'Anthropic rejected the credentials',
  'provider.rate_limited': 'Anthropic is rate limiting this key',
  'provider.unavailable': 'Anthropic is unavailable',
  'provider.context_length': 'The conversation is longer than the model accepts',
  'provider.bad_response': 'Anthropic answered something hearth cannot use',
  'provider.bad_request': 'Anthropic refused the request',
  'provider.timeout': 'Anthropic did not answer in time',
}

/** The message of an Anthropic error body (`{ type: 'error', error: { type, message } }`), else the client's. */
function messageOf(error: APIError): string {
  const body = error.error as { error?: { message?: unknown } } | undefined
  const inner = body?.error?.message
  return typeof inner === 'string' && inner !== '' ? inner : error.message
}

/** A {@link ProviderError} for anything thrown while requesting or reading a stream, `anthropic` being the loaded module. */
export function toProviderError(error: unknown, anthropic: AnthropicErrorClasses): ProviderError {
  if (error instanceof ProviderError) return error
  if (error instanceof anthropic.APIConnectionTimeoutError) return new ProviderError('provider.timeout', `${hints['provider.timeout']}: the request timed out`, { cause: error })
  if (error instanceof anthropic.APIConnectionError) return new ProviderError('provider.unavailable', `${hints['provider.unavailable']}: ${error.message}`, { cause: error })
  if (error instanceof anthropic.APIError) {
    const status = error.status
    const body = error.error as { error?: { type?: unknown } } | undefined
    const type = error.type ?? (typeof body?.error?.type === 'string' ? body.error.type : undefined)
    const message = messageOf(error)
    const code = codeOf(status, type, message)
    if (status === undefined) return new ProviderError(code, `${hints[code]}: ${message}`, { cause: error })
    const retryAfterMs = retryAfterMsOf(error.headers)
    return new ProviderError(code, `${hints[code]} (HTTP ${status}): ${message}`, { cause: error, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
  }
  if (error instanceof SyntaxError) return new ProviderError('provider.bad_response', `${hints['provider.bad_response']}: a stream event is not valid JSON (${error.message})`, { cause: error })
  if (error instanceof anthropic.AnthropicError) return new ProviderError('provider.bad_response', `${hints['provider.bad_response']}: ${error.message}`, { cause: error })
  // Whatever else escapes the client while reading is the transport failing (undici's "terminated").
  const message = error instanceof Error ? error.message : String(error)
  return new ProviderError('provider.unavailable', `${hints['provider.unavailable']}: the connection failed mid-stream (${message})`, { cause: error })
}
