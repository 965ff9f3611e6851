/**
 * The thread message routes: a user's message waits in its thread until a
 * run created without `input` takes it (Arkloop's flow).
 */
import type { RequestContext } from './context.js'
import { parseWith, readJsonObject } from './request-body.js'
import { jsonResponse } from './responses.js'
import { messageBody, messageListQuery, queryObject } from './schemas.js'
import { messageToWire } from './wire.js'

/** `POST /v1/threads/{thread_id}/messages`: 201 with the message, unanswered (`run_id: null`). */
export async function addMessage(context: RequestContext): Promise<Response> {
  const body = parseWith(messageBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  const message = await context.runtime.addMessage(context.id, { content: body.content, orgId: context.caller.org_id })
  return jsonResponse(201, messageToWire(message), context.traceId)
}

/** `GET /v1/threads/{thread_id}/messages`: the thread's messages, newest first. */
export async function listMessages(context: RequestContext): Promise<Response> {
  const query = parseWith(messageListQuery, queryObject(context.url), 'query parameter')
  const messages = await context.runtime.listMessages(context.id, {
    orgId: context.caller.org_id,
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.before === undefined ? {} : { before: query.before }),
  })
  return jsonResponse(200, messages.map(messageToWire), context.traceId)
}
