/**
 * The thread routes: create, list, get, update and delete threads, and
 * create and list the runs of a thread.
 */
import type { JsonObject } from '../../src/events.js'
import type { UpdateSessionOptions } from '../../src/sessions.js'
import { createdByOf } from './auth.js'
import type { RequestContext } from './context.js'
import { parseWith, readJsonObject } from './request-body.js'
import { jsonResponse } from './responses.js'
import { AuthError } from '../../src/errors.js'
import { rootSpanId } from '../../src/telemetry.js'
import { createRunBody, createThreadBody, queryObject, runListQuery, threadListQuery, updateThreadBody } from './schemas.js'
import { runItemToWire, threadToWire } from './wire.js'

/** `POST /v1/threads`: 201 with the thread. */
export async function createThread(context: RequestContext): Promise<Response> {
  const { runtime, caller } = context
  const body = parseWith(createThreadBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  // A thread's user is whose memories its runs read and write: a caller bound to a user makes threads for no other.
  if (caller.user_id !== null && typeof body.user_id === 'string' && body.user_id !== caller.user_id) {
    throw new AuthError(`The caller is user ${caller.user_id}: it cannot make a thread for another user`, { code: 'auth.forbidden' })
  }
  const session = await runtime.createSession({
    orgId: caller.org_id,
    userId: body.user_id === undefined ? caller.user_id : body.user_id,
    title: body.title ?? null,
    metadata: (body.metadata ?? {}) as JsonObject,
    createdBy: createdByOf(caller),
    ...(body.persona_id === undefined ? {} : { agent: body.persona_id }),
  })
  return jsonResponse(201, threadToWire(session), context.traceId)
}

/** `GET /v1/threads`: the caller's org's threads, newest first. */
export async function listThreads(context: RequestContext): Promise<Response> {
  const query = parseWith(threadListQuery, queryObject(context.url), 'query parameter')
  const sessions = await context.runtime.listSessions({
    orgId: context.caller.org_id,
    ...(query.user_id === undefined ? {} : { userId: query.user_id }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.before === undefined ? {} : { before: query.before }),
  })
  return jsonResponse(200, sessions.map(threadToWire), context.traceId)
}

/** `GET /v1/threads/{id}`. */
export async function getThread(context: RequestContext): Promise<Response> {
  const session = await context.runtime.getSession(context.id, { orgId: context.caller.org_id })
  return jsonResponse(200, threadToWire(session), context.traceId)
}

/** `PATCH /v1/threads/{id}`: changes `title`, `persona_id` (`''` and null: the default), `metadata` and `state`. */
export async function updateThread(context: RequestContext): Promise<Response> {
  const body = parseWith(updateThreadBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  const changes: UpdateSessionOptions = {}
  if (body.title !== undefined) changes.title = body.title
  if (body.persona_id !== undefined) changes.agent = body.persona_id
  if (body.metadata !== undefined) changes.metadata = body.metadata as JsonObject
  if (body.state !== undefined) changes.state = body.state as JsonObject
  const session = await context.runtime.updateSession(context.id, changes, { orgId: context.caller.org_id })
  return jsonResponse(200, threadToWire(session), context.traceId)
}

/** `DELETE /v1/threads/{id}`: cancels its active run, then deletes it with its runs. */
export async function deleteThread(context: RequestContext): Promise<Response> {
  await context.runtime.deleteSession(context.id, { orgId: context.caller.org_id })
  return jsonResponse(200, { ok: true }, context.traceId)
}

/**
 * `POST /v1/threads/{thread_id}/runs`: 201 `{ run_id, trace_id }` once the run
 * is stored. Without `input`, the run answers the thread's messages.
 */
export async function createRun(context: RequestContext): Promise<Response> {
  const { runtime, caller } = context
  const body = parseWith(createRunBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  const run = await runtime.createRun(context.id, {
    // Without input, the run answers the thread's unanswered messages (409 when there are none).
    ...(body.input === undefined ? {} : { input: body.input }),
    orgId: caller.org_id,
    // One trace for the request and the run it starts.
    traceId: context.traceId,
    createdBy: createdByOf(caller),
    ...(body.persona_id === undefined ? {} : { personaId: body.persona_id }),
    ...(body.route_id === undefined ? {} : { routeId: body.route_id }),
    ...(body.multitask === undefined ? {} : { multitask: body.multitask }),
  })
  // The run's trace as W3C trace context, its span id the one every span of the run hangs under (see hearth-runtime/otel).
  return jsonResponse(201, { run_id: run.id, trace_id: run.traceId }, run.traceId, { traceparent: `00-${run.traceId}-${rootSpanId(run.traceId)}-01` })
}

/** `GET /v1/threads/{thread_id}/runs`: the thread's runs, newest first. */
export async function listThreadRuns(context: RequestContext): Promise<Response> {
  const { runtime, caller } = context
  const query = parseWith(runListQuery, queryObject(context.url, ['status']), 'query parameter')
  await runtime.getSession(context.id, { orgId: caller.org_id })
  const runs = await runtime.listRuns({
    orgId: caller.org_id,
    sessionId: context.id,
    ...(query.status === undefined || query.status.length === 0 ? {} : { status: query.status }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.before === undefined ? {} : { before: query.before }),
  })
  return jsonResponse(200, runs.map(runItemToWire), context.traceId)
}
