/**
 * The user memory routes, at Agno AgentOS's paths and with its shapes:
 * `GET/POST/DELETE /memories`, `GET/PATCH/DELETE /memories/{memory_id}` and
 * `GET /memory_topics` (also `/memories/topics`, Agno's path). Each is scoped
 * to the caller's org and to one user: the caller's own when
 * `authenticate` gave one (another `user_id` is `auth.forbidden`), else the
 * `user_id` the request names, which it then must name. No route reaches
 * more than one user's memories, and none clears them all.
 */
import { AuthError, NotFoundError, ValidationError } from '../../src/errors.js'
import type { UserMemory } from '../../src/user-memories.js'
import type { RequestContext } from './context.js'
import { parseWith, readJsonObject } from './request-body.js'
import { emptyResponse, jsonResponse } from './responses.js'
import { createMemoryBody, deleteMemoriesBody, memoryListQuery, memoryUserQuery, queryObject, updateMemoryBody } from './schemas.js'

/** A memory on the wire (Agno's `UserMemorySchema`, with `agent_key` and `created_at`). */
export interface MemoryWire {
  memory_id: string
  memory: string
  topics: string[]
  user_id: string
  /** The agent key (Agno's name for it). */
  agent_id: string | null
  agent_key: string | null
  team_id: null
  created_at: string
  updated_at: string
}

/** A memory's wire shape. */
export function memoryToWire(memory: UserMemory): MemoryWire {
  return {
    memory_id: memory.id,
    memory: memory.memory,
    topics: memory.topics,
    user_id: memory.userId,
    agent_id: memory.agentKey,
    agent_key: memory.agentKey,
    team_id: null,
    created_at: memory.createdAt,
    updated_at: memory.updatedAt,
  }
}

/** The user a request reaches: the caller's, or for a caller without one, the one it names. */
function userOf(context: RequestContext, named: string | null | undefined): string {
  const own = context.caller.user_id
  if (own !== null) {
    if (named !== undefined && named !== null && named !== own) throw new AuthError(`The caller is user ${own}: it cannot reach the memories of another user`, { code: 'auth.forbidden' })
    return own
  }
  if (named === undefined || named === null || named === '') throw new ValidationError('`user_id` is required: memories are kept per user', { details: { path: ['user_id'] } })
  return named
}

function checkDb(context: RequestContext, dbId: string | undefined): void {
  if (dbId !== undefined && dbId !== context.runtime.store.id) throw new NotFoundError('not_found.db', `Database ${dbId} does not exist`)
}

function memoriesOf(context: RequestContext, userId: string) {
  return context.runtime.memories.of({ userId, orgId: context.caller.org_id })
}

/** `GET /memories`: a page of one user's memories, `{ data, meta }` as Agno pages. */
export async function listMemories(context: RequestContext): Promise<Response> {
  const query = parseWith(memoryListQuery, queryObject(context.url, ['topics']), 'query parameter')
  checkDb(context, query.db_id)
  const limit = query.limit ?? 20
  const page = await memoriesOf(context, userOf(context, query.user_id)).list({
    limit,
    page: query.page ?? 1,
    ...(query.agent_id === undefined ? {} : { agentKey: query.agent_id }),
    ...(query.topics === undefined ? {} : { topics: query.topics }),
    ...(query.search_content === undefined ? {} : { search: query.search_content }),
    sortBy: query.sort_by === 'created_at' ? 'createdAt' : 'updatedAt',
    order: query.sort_order ?? 'desc',
  })
  const meta = { page: page.page, limit: page.limit, total_pages: Math.ceil(page.total / page.limit), total_count: page.total }
  return jsonResponse(200, { data: page.memories.map(memoryToWire), meta }, context.traceId)
}

/** `POST /memories`: adds a memory (200, as Agno answers). */
export async function createMemory(context: RequestContext): Promise<Response> {
  checkDb(context, parseWith(memoryUserQuery, queryObject(context.url), 'query parameter').db_id)
  const body = parseWith(createMemoryBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  const memory = await memoriesOf(context, userOf(context, body.user_id)).create({ memory: body.memory, topics: body.topics ?? [], agentKey: body.agent_id ?? null })
  return jsonResponse(200, memoryToWire(memory), context.traceId)
}

/** `GET /memories/{memory_id}`: the user's memory; `not_found.memory` for another user's. */
export async function getMemory(context: RequestContext): Promise<Response> {
  const query = parseWith(memoryUserQuery, queryObject(context.url), 'query parameter')
  checkDb(context, query.db_id)
  return jsonResponse(200, memoryToWire(await memoriesOf(context, userOf(context, query.user_id)).get(context.id)), context.traceId)
}

/** `PATCH /memories/{memory_id}`: changes the user's memory's text or topics. */
export async function updateMemory(context: RequestContext): Promise<Response> {
  checkDb(context, parseWith(memoryUserQuery, queryObject(context.url), 'query parameter').db_id)
  const body = parseWith(updateMemoryBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  const change = { ...(body.memory === undefined ? {} : { memory: body.memory }), ...(body.topics === undefined || body.topics === null ? {} : { topics: body.topics }) }
  const memory = await memoriesOf(context, userOf(context, body.user_id)).update(context.id, change)
  return jsonResponse(200, memoryToWire(memory), context.traceId)
}

/** `DELETE /memories/{memory_id}`: 204; `not_found.memory` when the user has none with this id. */
export async function deleteMemory(context: RequestContext): Promise<Response> {
  const query = parseWith(memoryUserQuery, queryObject(context.url), 'query parameter')
  checkDb(context, query.db_id)
  const deleted = await memoriesOf(context, userOf(context, query.user_id)).delete([context.id])
  if (deleted === 0) throw new NotFoundError('not_found.memory', `Memory ${context.id} not found`)
  return emptyResponse(204, context.traceId)
}

/** `DELETE /memories` with `memory_ids`: 204; deletes those that are the user's, leaves the rest. */
export async function deleteMemories(context: RequestContext): Promise<Response> {
  checkDb(context, parseWith(memoryUserQuery, queryObject(context.url), 'query parameter').db_id)
  const body = parseWith(deleteMemoriesBody, await readJsonObject(context.request, context.settings.maxBodyBytes), 'body')
  await memoriesOf(context, userOf(context, body.user_id)).delete(body.memory_ids)
  return emptyResponse(204, context.traceId)
}

/** `GET /memory_topics`: the topics of the user's memories, sorted. */
export async function listMemoryTopics(context: RequestContext): Promise<Response> {
  const query = parseWith(memoryUserQuery, queryObject(context.url), 'query parameter')
  checkDb(context, query.db_id)
  return jsonResponse(200, await memoriesOf(context, userOf(context, query.user_id)).topics(), context.traceId)
}
