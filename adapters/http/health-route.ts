/**
 * `GET /v1/health`: whether the runtime can serve, for load balancers and
 * orchestrators. It needs no token and tells nothing about any org.
 */
import { isHearthError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import type { RequestContext } from './context.js'
import { errorResponse, jsonResponse } from './responses.js'

/**
 * `{ ok: true }` once the store answers a cheap read (one session of one
 * org); otherwise 503 with the read's error in the usual error body
 * (`storage.failed`, `storage.busy` with `Retry-After`, ...).
 */
export async function checkHealth(context: RequestContext): Promise<Response> {
  try {
    await context.runtime.listSessions({ limit: 1 })
  } catch (error) {
    // A failing store is the answer itself, polled every few seconds: only a bug is worth a log line.
    const known = isHearthError(error) && error.code !== 'internal.error'
    const answer = errorResponse(error, context.traceId, known ? silentLogger : context.settings.logger)
    return new Response(answer.body, { status: 503, headers: answer.headers })
  }
  return jsonResponse(200, { ok: true }, context.traceId)
}
