/**
 * The zod schemas of request bodies and query parameters. Bodies are strict:
 * an unknown field is a client's mistake, answered with `validation.invalid`.
 */
import { z } from 'zod'
import { runStatuses, type RunStatus } from '../../src/store.js'

const jsonObject = z.record(z.string(), z.unknown())
const nonEmpty = z.string().min(1, 'Expected a non-empty string')
/** A persona or route: `''` and null mean the default. */
const reference = z.string().nullable().optional()

/** `POST /v1/threads`. */
export const createThreadBody = z.strictObject({
  title: z.string().nullable().optional(),
  persona_id: reference,
  user_id: z.string().nullable().optional(),
  metadata: jsonObject.optional(),
})

/** `PATCH /v1/threads/{id}`. */
export const updateThreadBody = z.strictObject({
  title: z.string().nullable().optional(),
  persona_id: reference,
  metadata: jsonObject.optional(),
  state: jsonObject.optional(),
})

/** `POST /v1/threads/{thread_id}/runs`. */
export const createRunBody = z.strictObject({
  input: z.string().optional(),
  route_id: reference,
  persona_id: reference,
  multitask: z.enum(['reject', 'enqueue', 'interrupt']).optional(),
})

/** `POST /v1/threads/{thread_id}/messages`. */
export const messageBody = z.strictObject({
  content: z.string(),
})

/** `POST /v1/runs/{run_id}/input`. */
export const inputBody = z.strictObject({
  content: z.string(),
  approved: z.boolean().optional(),
  tool_call_id: nonEmpty.optional(),
})

/** `POST /v1/runs/{run_id}:cancel` (the body is optional). */
export const cancelBody = z.strictObject({
  reason: z.string().max(1000).optional(),
})

const limit = z
  .string()
  .regex(/^[0-9]{1,3}$/, 'Expected an integer from 1 to 100')
  .transform(Number)
  .pipe(z.number().min(1, 'Expected an integer from 1 to 100').max(100, 'Expected an integer from 1 to 100'))

const statusList = z.array(z.enum(runStatuses as [RunStatus, ...RunStatus[]]))

/** `limit`, `before` and `status` of run lists. */
export const runListQuery = z.object({
  limit: limit.optional(),
  before: nonEmpty.optional(),
  status: statusList.optional(),
  parent_run_id: nonEmpty.optional(),
})

/** `depth` of a run tree: how many levels of children (at most the runtime's `maxDepth`). */
export const runTreeQuery = z.object({
  depth: z.string().regex(/^[1-9][0-9]?$/, 'Expected an integer from 1 to 99').transform(Number).optional(),
})

/** `limit` and `before` of a thread's messages. */
export const messageListQuery = z.object({
  limit: limit.optional(),
  before: nonEmpty.optional(),
})

/** `limit`, `before` and `user_id` of the thread list. */
export const threadListQuery = z.object({
  limit: limit.optional(),
  before: nonEmpty.optional(),
  user_id: z.string().optional(),
})

/** `type` and `db_id` of the Agno view. */
export const agnoRunsQuery = z.object({
  type: z.enum(['agent', 'team', 'workflow']).optional(),
  db_id: z.string().optional(),
})

/**
 * The query string as an object: the first value of each parameter, except
 * those in `lists`, which collect every value (comma-separated values too).
 */
export function queryObject(url: URL, lists: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(url.searchParams.keys())) {
    if (lists.includes(key)) {
      out[key] = url.searchParams.getAll(key).flatMap((value) => value.split(',')).filter((value) => value !== '')
    } else {
      out[key] = url.searchParams.get(key) as string
    }
  }
  return out
}

/** `POST /memories` (Agno's `UserMemoryCreateSchema`, with `agent_id`). */
export const createMemoryBody = z.strictObject({
  memory: z.string(),
  user_id: z.string().nullable().optional(),
  topics: z.array(z.string()).nullable().optional(),
  agent_id: z.string().nullable().optional(),
})

/** `PATCH /memories/{memory_id}`: the text, the topics, or both. */
export const updateMemoryBody = z.strictObject({
  memory: z.string().optional(),
  user_id: z.string().nullable().optional(),
  topics: z.array(z.string()).nullable().optional(),
})

/** `DELETE /memories` (Agno's `DeleteMemoriesRequest`). */
export const deleteMemoriesBody = z.strictObject({
  memory_ids: z.array(z.string()).min(1, 'Expected at least one memory id').max(100, 'Expected at most 100 memory ids'),
  user_id: z.string().nullable().optional(),
})

const page = z
  .string()
  .regex(/^[1-9][0-9]{0,5}$/, 'Expected an integer from 1 to 999999')
  .transform(Number)

/** The filters and page of `GET /memories` (Agno's names). */
export const memoryListQuery = z.object({
  user_id: z.string().optional(),
  agent_id: z.string().optional(),
  topics: z.array(z.string()).optional(),
  search_content: z.string().optional(),
  limit: limit.optional(),
  page: page.optional(),
  sort_by: z.enum(['updated_at', 'created_at']).optional(),
  sort_order: z.enum(['asc', 'desc']).optional(),
  db_id: z.string().optional(),
})

/** `user_id` (and Agno's `db_id`) of the routes of one memory and of the topics. */
export const memoryUserQuery = z.object({
  user_id: z.string().optional(),
  db_id: z.string().optional(),
})
