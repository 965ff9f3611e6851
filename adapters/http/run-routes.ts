/**
 * The run routes: the org's run list, one run's details, cancel and input.
 * Cancel and input answer once their event is committed, so a read right
 * after sees the new state.
 */
import type { RequestContext } from './context.js'
import { inputBodyBytes } from './context.js'
import { parseWith, readJsonObject } from './request-body.js'
import { jsonResponse } from './responses.js'
import { cancelBody, inputBody, queryObject, runListQuery, runTreeQuery } from './schemas.js'
import { runDetailsToWire, runItemToWire, runTreeToWire } from './wire.js'

/** `GET /v1/runs`: the caller's org's runs, newest first. */
export async function listRuns(context: RequestContext): Promise<Response> {
  const query = parseWith(runListQuery, queryObject(context.url, ['status']), 'query parameter')
  const runs = await context.runtime.listRuns({
    orgId: context.caller.org_id,
    ...(query.status === undefined || query.status.length === 0 ? {} : { status: query.status }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.before === undefined ? {} : { before: query.before }),
    ...(query.parent_run_id === undefined ? {} : { parentRunId: query.parent_run_id }),
  })
  return jsonResponse(200, runs.map(runItemToWire), context.traceId)
}

/** `GET /v1/runs/{run_id}`. */
export async function getRun(context: RequestContext): Promise<Response> {
  const run = await context.runtime.getRun(context.id, { orgId: context.caller.org_id })
  return jsonResponse(200, runDetailsToWire(run), context.traceId)
}

/** `POST /v1/runs/{run_id}:cancel`: `{ ok: true }` once `run.cancelled` is committed. */
export async function cancelRun(context: RequestContext): Promise<Response> {
  const body = parseWith(cancelBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  await context.runtime.cancelRun(context.id, {
    orgId: context.caller.org_id,
    ...(body.reason === undefined ? {} : { reason: body.reason }),
  })
  return jsonResponse(200, { ok: true }, context.traceId)
}

/**
 * `POST /v1/runs/{run_id}/input`: answers a waiting run's request, `{ ok: true }`
 * once `run.input_received` is committed. Without `approved`, `approve` or
 * `yes` approves and anything else denies with `content` as the reason.
 */
export async function submitInput(context: RequestContext): Promise<Response> {
  const body = parseWith(inputBody, await readJsonObject(context.request, Math.min(inputBodyBytes, context.settings.maxBodyBytes)), 'body')
  await context.runtime.submitInput(context.id, {
    content: body.content,
    orgId: context.caller.org_id,
    ...(body.approved === undefined ? {} : { approved: body.approved }),
    ...(body.tool_call_id === undefined ? {} : { toolCallId: body.tool_call_id }),
  })
  return jsonResponse(200, { ok: true }, context.traceId)
}

/** `GET /v1/runs/{run_id}/tree`: the run with its child runs, recursively (`?depth=`, default and at most the runtime's `maxDepth`). */
export async function getRunTree(context: RequestContext): Promise<Response> {
  const query = parseWith(runTreeQuery, queryObject(context.url, []), 'query parameter')
  const tree = await context.runtime.getRunTree(context.id, { orgId: context.caller.org_id, ...(query.depth === undefined ? {} : { depth: query.depth }) })
  return jsonResponse(200, runTreeToWire(tree), context.traceId)
}
