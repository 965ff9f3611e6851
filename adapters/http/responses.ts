/**
 * Building responses: JSON bodies, the error shape `{ code, message, details,
 * trace_id }`, and the `X-Trace-Id` header every response carries.
 */
import { httpStatusOf, isHearthError, type ErrorCode } from '../../src/errors.js'
import type { Logger } from '../../src/logger.js'

/** The error body of every failed request. */
export interface ErrorWire {
  code: ErrorCode
  message: string
  details: Record<string, unknown>
  trace_id: string
}

/** A JSON response with the trace header. */
export function jsonResponse(status: number, body: unknown, traceId: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Trace-Id': traceId,
      ...headers,
    },
  })
}

/** An empty response with the trace header. */
export function emptyResponse(status: number, traceId: string): Response {
  return new Response(null, { status, headers: { 'X-Trace-Id': traceId } })
}

/** Extra headers some error codes call for. */
function headersFor(code: ErrorCode, details: Record<string, unknown>): Record<string, string> {
  if (code === 'auth.unauthorized') return { 'WWW-Authenticate': 'Bearer' }
  if (code === 'storage.busy') return { 'Retry-After': '1' }
  if (code === 'validation.method' && Array.isArray(details.allow)) return { Allow: details.allow.join(', ') }
  return {}
}

/**
 * The response for a thrown value. A hearth error keeps its code, message and
 * status; anything else is a bug: logged with its stack, answered as a
 * generic `internal.error`.
 */
export function errorResponse(error: unknown, traceId: string, logger: Logger): Response {
  if (isHearthError(error) && error.code !== 'internal.error') {
    const status = httpStatusOf[error.code]
    const details = error.details ?? {}
    if (status >= 500) logger.error(`hearth-runtime/http: ${error.code} failed (trace ${traceId})`, error)
    const body: ErrorWire = { code: error.code, message: error.message, details, trace_id: traceId }
    return jsonResponse(status, body, traceId, headersFor(error.code, details))
  }
  logger.error(`hearth-runtime/http: internal error (trace ${traceId})`, error)
  const body: ErrorWire = { code: 'internal.error', message: 'Internal error', details: {}, trace_id: traceId }
  return jsonResponse(500, body, traceId)
}
