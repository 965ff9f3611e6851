/**
 * Maps what the `openai` client throws to a {@link ProviderError} whose code
 * says what a user can do about it. The original error stays as `cause`, and
 * the HTTP status, when there was one, as `status`. The client's error
 * classes come from the `openai` module the provider loaded on first use.
 */
import type { APIConnectionError, APIConnectionTimeoutError, APIError, OpenAIError } from 'openai'
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js'
import { retryAfterMsOf } from '../../src/provider-stream.js'

/** The error classes of the loaded `openai` module (the module itself fits). */
export interface OpenAIErrorClasses {
  /** The base of every error the client throws. */
  OpenAIError: typeof OpenAIError
  /** An HTTP error, or an error object a server sent inside a stream. */
  APIError: typeof APIError
  /** The connection failed. */
  APIConnectionError: typeof APIConnectionError
  /** The request timed out. */
  APIConnectionTimeoutError: typeof APIConnectionTimeoutError
}

const contextLengthPattern =
  /context[_ ]length|context window|context size|maximum context|too many tokens|prompt is too long|reduce the length/i

/** Error codes servers put in a JSON error body (OpenAI's, vLLM's and llama.cpp's). */
const codeByServerCode: Readonly<Record<string, ProviderErrorCode>> = {
  context_length_exceeded: 'provider.context_length',
  exceed_context_size_error: 'provider.context_length',
  string_above_max_length: 'provider.context_length',
  rate_limit_exceeded: 'provider.rate_limited',
  insufficient_quota: 'provider.rate_limited',
  invalid_api_key: 'provider.auth',
  invalid_value: 'provider.bad_request',
  server_error: 'provider.unavailable',
  server_overloaded: 'provider.unavailable',
  service_unavailable: 'provider.unavailable',
}

/** The code for an error object a server sent inside a stream (no HTTP status). */
export function codeOfServerError(code: unknown, type: unknown, message: string): ProviderErrorCode {
  for (const candidate of [code, type]) {
    if (typeof candidate === 'string' && Object.hasOwn(codeByServerCode, candidate)) {
      return codeByServerCode[candidate] as ProviderErrorCode
    }
  }
  if (contextLengthPattern.test(message)) return 'provider.context_length'
  return 'provider.bad_response'
}

function codeOfStatus(status: number, error: APIError): ProviderErrorCode {
  if (status === 401 || status === 403) return 'provider.auth'
  if (status === 429) return 'provider.rate_limited'
  if (status === 408) return 'provider.timeout'
  // 409 is a conflict on the server's side (OpenAI's lock timeout): trying again may work.
  if (status >= 500 || status === 409) return 'provider.unavailable'
  if (status === 413) return 'provider.context_length'
  if (codeOfServerError(error.code, error.type, error.message) === 'provider.context_length') return 'provider.context_length'
  // A 404 names no such model or path: the provider answered, but not what hearth can use.
  return status === 404 ? 'provider.bad_response' : 'provider.bad_request'
}

const hints: Readonly<Record<ProviderErrorCode, string>> = {
  'provider.auth': 'The provider rejected the credentials',
  'provider.rate_limited': 'The provider is rate limiting this key',
  'provider.unavailable': 'The provider is unavailable',
  'provider.context_length': 'The conversation is longer than the model accepts',
  'provider.bad_response': 'The provider answered something hearth cannot use',
  'provider.bad_request': 'The provider refused the request',
  'provider.timeout': 'The provider did not answer in time',
}

function providerError(code: ProviderErrorCode, detail: string, cause: unknown, status?: number, retryAfterMs?: number): ProviderError {
  if (status === undefined) return new ProviderError(code, `${hints[code]}: ${detail}`, { cause })
  // The client's messages start with the status; it is said once already.
  const reason = detail.startsWith(`${status} `) ? detail.slice(String(status).length + 1) : detail
  return new ProviderError(code, `${hints[code]} (HTTP ${status}): ${reason}`, { cause, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
}

/** A {@link ProviderError} for anything thrown while requesting or reading a stream, `openai` being the loaded module. */
export function toProviderError(error: unknown, openai: OpenAIErrorClasses): ProviderError {
  const { APIConnectionError, APIConnectionTimeoutError, APIError, OpenAIError } = openai
  if (error instanceof ProviderError) return error
  if (error instanceof APIConnectionTimeoutError) {
    return providerError('provider.timeout', 'the request timed out', error)
  }
  if (error instanceof APIConnectionError) {
    return providerError('provider.unavailable', error.message, error)
  }
  if (error instanceof APIError) {
    if (error.status === undefined) {
      return providerError(codeOfServerError(error.code, error.type, error.message), error.message, error)
    }
    return providerError(codeOfStatus(error.status, error), error.message, error, error.status, retryAfterMsOf(error.headers))
  }
  if (error instanceof SyntaxError) {
    return providerError('provider.bad_response', `a stream chunk is not valid JSON (${error.message})`, error)
  }
  if (error instanceof OpenAIError) return providerError('provider.bad_response', error.message, error)
  // Whatever else escapes the client while reading is the transport failing
  // (undici's "terminated" when the connection closes mid-stream).
  const message = error instanceof Error ? error.message : String(error)
  return providerError('provider.unavailable', `the connection failed mid-stream (${message})`, error)
}
