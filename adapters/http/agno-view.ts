/**
 * The Agno view: `GET /sessions/{session_id}/runs`, the runs of a session as
 * Agno AgentOS's RunSchema (seed `agno-session-runs.txt`). Units follow
 * Agno: message and event times in unix seconds, metrics' durations in
 * seconds as floats, events under Agno's names. Deltas, `run.queued` and
 * `message.completed` are left out, as Agno stores them. The messages a run
 * was sent from earlier runs (`history_run_ids` of its `run.started`) are
 * expanded from those runs' own records, marked `from_history`.
 */
import { NotFoundError, isHearthError } from '../../src/errors.js'
import type { Json, RunEvent } from '../../src/events.js'
import type { Message } from '../../src/model.js'
import { summaryMessage } from '../../src/context-window.js'
import { historyMessages } from '../../src/run-start.js'
import type { Run, RunMetrics } from '../../src/store.js'
import type { RequestContext } from './context.js'
import { parseWith } from './request-body.js'
import { jsonResponse } from './responses.js'
import { agnoRunsQuery, queryObject } from './schemas.js'

/** Agno's run metrics. */
export interface AgnoMetrics {
  input_tokens: number
  output_tokens: number
  total_tokens: number
  /** Seconds; left out when unknown. */
  time_to_first_token?: number
  /** Seconds; left out when unknown. */
  duration?: number
}

/** One message of an Agno run. */
export interface AgnoMessage {
  content: string
  from_history: boolean
  stop_after_tool_call: boolean
  role: Message['role']
  /** Unix seconds. */
  created_at: number
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[]
  tool_call_id?: string
  tool_name?: string
  reasoning_content?: string
  metrics?: { input_tokens: number; output_tokens: number; total_tokens: number }
}

/** One event of an Agno run. */
export interface AgnoEvent {
  /** Unix seconds. */
  created_at: number
  event: 'RunStarted' | 'ToolCallStarted' | 'ToolCallCompleted' | 'RunPaused' | 'RunContinued' | 'RunCompleted' | 'RunError' | 'RunCancelled' | 'MemoryUpdateStarted' | 'MemoryUpdateCompleted'
  agent_id: string
  agent_name: string
  run_id: string
  session_id: string
  model: string
  model_provider: string
  [field: string]: Json | undefined
}

/** Agno's RunSchema. */
export interface AgnoRun {
  run_id: string
  agent_session_id: string
  user_id: string | null
  run_input: string
  content: string | null
  run_response_format: 'text' | 'json'
  reasoning_content: string | null
  metrics: AgnoMetrics
  messages: AgnoMessage[]
  events: AgnoEvent[]
  /** ISO 8601. */
  created_at: string
  /** For the runs of a team or workflow session (`type=team`, `type=workflow`): the run that started this one as a child (null for the session's own run). */
  parent_run_id?: string | null
}

const pageSize = 100
const eventPageSize = 1000

function unixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000)
}

/** Metrics in Agno's units. */
export function agnoMetrics(metrics: Pick<RunMetrics, 'inputTokens' | 'outputTokens' | 'totalTokens' | 'timeToFirstTokenMs' | 'durationMs'>): AgnoMetrics {
  const out: AgnoMetrics = { input_tokens: metrics.inputTokens, output_tokens: metrics.outputTokens, total_tokens: metrics.totalTokens }
  if (metrics.timeToFirstTokenMs !== null) out.time_to_first_token = metrics.timeToFirstTokenMs / 1000
  if (metrics.durationMs !== null) out.duration = metrics.durationMs / 1000
  return out
}

function agnoMessage(message: Message, fallbackTime: string): AgnoMessage {
  const out: AgnoMessage = {
    content: message.content,
    from_history: message.fromHistory ?? false,
    stop_after_tool_call: message.role === 'tool' ? (message.stopAfterToolCall ?? false) : false,
    role: message.role,
    created_at: unixSeconds(message.createdAt ?? fallbackTime),
  }
  if (message.role === 'assistant') {
    if (message.toolCalls !== undefined && message.toolCalls.length > 0) {
      out.tool_calls = message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }))
    }
    if (message.reasoningContent !== undefined) out.reasoning_content = message.reasoningContent
    if (message.usage !== undefined) {
      const { inputTokens, outputTokens } = message.usage
      out.metrics = { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens }
    }
  } else if (message.role === 'tool') {
    out.tool_call_id = message.toolCallId
    out.tool_name = message.name
  }
  return out
}

/** Who ran the run, as Agno names it. */
interface AgentIdentity {
  id: string
  name: string
  json: boolean
}

function agentOf(context: RequestContext, personaId: string): AgentIdentity {
  try {
    const agent = context.runtime.getAgent(personaId)
    return { id: agent.key, name: agent.name, json: agent.outputSchema !== undefined }
  } catch {
    // A run of an agent this runtime no longer defines still shows, under its key.
    const key = personaId.includes('@') ? personaId.slice(0, personaId.lastIndexOf('@')) : personaId
    return { id: key, name: key, json: false }
  }
}

/** The run's events under Agno's names; the rest are left out. */
export function agnoEvents(run: Run, agent: AgentIdentity, events: readonly RunEvent[]): AgnoEvent[] {
  const argumentsOf = new Map<string, Json>()
  const out: AgnoEvent[] = []
  const base = (event: RunEvent, name: AgnoEvent['event']): AgnoEvent => ({
    created_at: unixSeconds(event.createdAt),
    event: name,
    agent_id: agent.id,
    agent_name: agent.name,
    run_id: run.id,
    session_id: run.sessionId,
    model: run.model,
    model_provider: run.modelProvider,
  })
  for (const event of events) {
    switch (event.type) {
      case 'run.started':
        out.push(base(event, 'RunStarted'))
        break
      case 'tool.call': {
        const { tool_call_id, name, arguments: args, requires_confirmation } = event.data
        argumentsOf.set(tool_call_id, args)
        out.push({ ...base(event, 'ToolCallStarted'), tool: { tool_call_id, tool_name: name, tool_args: args, requires_confirmation } })
        break
      }
      case 'tool.result': {
        const { tool_call_id, name, output, is_error } = event.data
        const tool: { [key: string]: Json } = { tool_call_id, tool_name: name, tool_args: argumentsOf.get(tool_call_id) ?? null, result: output, tool_call_error: is_error }
        if (event.data.error_code !== undefined) tool.error_code = event.data.error_code
        out.push({ ...base(event, 'ToolCallCompleted'), content: output, tool })
        break
      }
      case 'run.waiting_for_input':
        out.push({
          ...base(event, 'RunPaused'),
          tools: event.data.requests.map((request) => ({
            tool_call_id: request.tool_call_id,
            tool_name: request.tool,
            tool_args: request.arguments,
            requires_confirmation: true,
          })),
        })
        break
      case 'run.input_received':
        out.push({
          ...base(event, 'RunContinued'),
          tools: [{ tool_call_id: event.data.tool_call_id, confirmed: event.data.approved, confirmation_note: event.data.content }],
        })
        break
      case 'run.resumed':
        out.push({ ...base(event, 'RunContinued'), reason: event.data.reason })
        break
      case 'run.completed': {
        const metrics = event.data.metrics
        out.push({
          ...base(event, 'RunCompleted'),
          content: event.data.content,
          content_type: agent.json ? 'json' : 'str',
          metrics: agnoMetrics({
            inputTokens: metrics.input_tokens,
            outputTokens: metrics.output_tokens,
            totalTokens: metrics.total_tokens,
            timeToFirstTokenMs: metrics.time_to_first_token_ms,
            durationMs: metrics.duration_ms,
          }) as unknown as Json,
        })
        break
      }
      case 'run.failed':
        out.push({ ...base(event, 'RunError'), content: event.data.error.message, error: event.data.error })
        break
      case 'run.cancelled':
        out.push({ ...base(event, 'RunCancelled'), reason: event.data.reason, content: event.data.content })
        break
      case 'memory.update_started':
        out.push(base(event, 'MemoryUpdateStarted'))
        break
      case 'memory.update_completed': {
        const { added, updated, deleted } = event.data
        out.push({ ...base(event, 'MemoryUpdateCompleted'), memories: { added, updated, deleted } })
        break
      }
      // Agno has no event for a failed update: its completion, with the error.
      case 'memory.update_failed':
        out.push({ ...base(event, 'MemoryUpdateCompleted'), error: event.data.error })
        break
      case 'run.queued':
      case 'message.delta':
      case 'message.completed':
      // A failed attempt tried again, or on another route, is not a run event Agno stores.
      case 'model.retry':
      case 'model.fallback':
      // What the model was sent shows in the run's messages instead.
      case 'context.trimmed':
      case 'context.summarized':
        break
    }
  }
  return out
}

async function storedEvents(context: RequestContext, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = []
  for (;;) {
    const page = await context.runtime.readEvents(runId, { afterSeq: events.length === 0 ? 0 : (events[events.length - 1] as RunEvent).seq, limit: eventPageSize, orgId: context.caller.org_id })
    events.push(...page)
    if (page.length < eventPageSize) return events
  }
}

/** Finds a run of the caller's org: undefined when it is gone (pruned, deleted). */
export type RunLookup = (runId: string) => Promise<Run | undefined>

/** What of its session the run was last sent: the earlier runs, and the summary before them (its text, or the run that wrote it). */
interface SentHistory {
  ids: string[] | undefined
  summary: string | undefined
  summaryRunId: string | undefined
}

/** The history named by the run's `run.started`, as its last `context.trimmed` or `context.summarized` changed it. */
function sentHistory(events: readonly RunEvent[]): SentHistory {
  const sent: SentHistory = { ids: undefined, summary: undefined, summaryRunId: undefined }
  for (const event of events) {
    if (event.type === 'run.started') {
      sent.ids = event.data.history_run_ids
      sent.summaryRunId = event.data.summary_run_id
    } else if (event.type === 'context.trimmed') sent.ids = event.data.history_run_ids
    else if (event.type === 'context.summarized') {
      sent.ids = event.data.history_run_ids
      sent.summary = event.data.summary
    }
  }
  return sent
}

/** The summary run `runId` wrote (its last `context.summarized`); undefined when it is gone. */
async function summaryOf(context: RequestContext, runId: string): Promise<string | undefined> {
  const events = await storedEvents(context, runId).catch(() => [])
  let summary: string | undefined
  for (const event of events) if (event.type === 'context.summarized') summary = event.data.summary
  return summary
}

/**
 * The messages the run's model was last sent, in the order sent: its system
 * prompt, then the summary and the earlier runs' messages its events name
 * (read from those runs, oldest first; a run gone since is left out), then
 * its own.
 */
async function sentMessages(context: RequestContext, run: Run, events: readonly RunEvent[], lookup: RunLookup): Promise<Message[]> {
  const sent = sentHistory(events)
  const summary = sent.summary ?? (sent.summaryRunId === undefined ? undefined : await summaryOf(context, sent.summaryRunId))
  const ids = sent.ids ?? []
  if (ids.length === 0 && summary === undefined) return run.messages
  const earlier = await Promise.all(ids.map(lookup))
  const history = historyMessages(earlier.filter((entry): entry is Run => entry !== undefined))
  if (summary !== undefined) history.unshift(summaryMessage(summary))
  const first = run.messages[0]
  return first?.role === 'system' ? [first, ...history, ...run.messages.slice(1)] : [...history, ...run.messages]
}

/** A run as Agno's RunSchema. */
export async function agnoRun(context: RequestContext, run: Run, userId: string | null, lookup: RunLookup): Promise<AgnoRun> {
  const agent = agentOf(context, run.personaId)
  const events = await storedEvents(context, run.id)
  return {
    run_id: run.id,
    agent_session_id: run.sessionId,
    user_id: userId,
    run_input: run.input,
    content: run.content,
    run_response_format: agent.json ? 'json' : 'text',
    reasoning_content: run.reasoningContent,
    metrics: agnoMetrics(run.metrics),
    messages: (await sentMessages(context, run, events, lookup)).map((message) => agnoMessage(message, run.createdAt)),
    events: agnoEvents(run, agent, events),
    created_at: run.createdAt,
  }
}

/** `GET /sessions/{session_id}/runs?type&db_id`: the session's runs, oldest first. */
export async function listSessionRuns(context: RequestContext): Promise<Response> {
  const { runtime, caller } = context
  const query = parseWith(agnoRunsQuery, queryObject(context.url), 'query parameter')
  if (query.db_id !== undefined && query.db_id !== runtime.store.id) {
    throw new NotFoundError('not_found.db', `Database ${query.db_id} does not exist`)
  }
  const session = await runtime.getSession(context.id, { orgId: caller.org_id })
  if ((query.type ?? 'agent') !== session.type) return jsonResponse(200, [], context.traceId)
  const out: AgnoRun[] = []
  // A run's history is runs listed before it: looked up here first, the store only for one not listed.
  const listed = new Map<string, Run>()
  const lookup: RunLookup = async (runId) => {
    const known = listed.get(runId)
    if (known !== undefined) return known
    return runtime.getRun(runId, { orgId: caller.org_id }).catch((error: unknown) => {
      if (isHearthError(error) && error.code === 'not_found.run') return undefined
      throw error
    })
  }
  let before: string | undefined
  for (;;) {
    const page = await runtime.listRuns({ orgId: caller.org_id, sessionId: session.id, order: 'asc', limit: pageSize, ...(before === undefined ? {} : { before }) })
    for (const run of page) {
      listed.set(run.id, run)
      const item = await agnoRun(context, run, session.userId, lookup)
      // A team's or a workflow's session lists its child runs too, each under the run that started it.
      if (session.type !== 'agent') item.parent_run_id = run.parentRunId
      out.push(item)
    }
    if (page.length < pageSize) break
    before = (page[page.length - 1] as Run).id
  }
  return jsonResponse(200, out, context.traceId)
}
