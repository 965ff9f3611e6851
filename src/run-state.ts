/**
 * The state of a run as a fold over its events. The agent loop applies each
 * event it emits through `applyEvent`, and a run read back from the store
 * (after a restart, or to answer input) is rebuilt by folding its log with the
 * same function, so the two can never disagree: the log is the truth.
 */
import { addMemoryInstructions } from './user-memories.js'
import type { ContextSummary } from './context-window.js'
import type { ErrorCode } from './errors.js'
import type { EventDataMap, InputRequest, Json, MetricsData, RunEvent, UsageData } from './events.js'
import type { Message, ToolCall } from './model.js'
import type { RouteUsage } from './routes.js'
import type { RunMetrics } from './store.js'

/** A tool result as stored in `tool.result`. */
export type ToolResultData = EventDataMap['tool.result']

/** The open tool calls of the latest model turn. */
export interface ToolPhase {
  /** The calls of the turn, in the model's order. */
  calls: ToolCall[]
  /** `tool.call` data of the calls announced so far. */
  announced: Map<string, EventDataMap['tool.call']>
  results: Map<string, ToolResultData>
  /** Requests of `run.waiting_for_input`, when the run waits. */
  requests: InputRequest[]
  answers: Map<string, { approved: boolean; content: string }>
  /** The child run of each agent-tool call that started one (`subrun.started`). */
  children: Map<string, string>
}

/** What the ended child runs of a run add to its figures (`subrun.completed`). */
export interface ChildTotals {
  inputTokens: number
  outputTokens: number
  cachedInputTokens: number
  reasoningTokens: number
  totalCostUsd: number
  creditsUsed: number
}

/** Everything the loop needs to continue a run. */
export interface RunState {
  /** The run's own messages: system, user, then assistant and tool messages. */
  messages: Message[]
  /** Model turns completed. */
  turns: number
  /** Text and reasoning streamed in the current, unfinished turn. */
  partialText: string
  partialReasoning: string
  /** Seq of the last event of a completed step: a resumed run discards what follows. */
  stepSeq: number
  /** Attempts at the current model turn that failed (`model.retry`), also across a restart; 0 after a turn completes. */
  failedAttempts: number
  /** The fallback route the current turn went on with (`model.fallback`); undefined on the run's own route. */
  turnRouteId: string | undefined
  /** Tokens of the turns fallback routes served, by route (undefined while there are none): each is priced by its route, the rest by the run's. */
  fallbackUsage: Map<string, RouteUsage> | undefined
  toolPhase: ToolPhase | undefined
  /** Set when a `stopAfterCall` tool ended the run: its output as text. */
  stopContent: string | undefined
  reasoning: string[]
  /** Tokens of the completed turns; `cacheWriteInputTokens` (part of the input) are priced apart, and are not a run metric. */
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number; reasoningTokens: number; cacheWriteInputTokens: number }
  startedAtMs: number | undefined
  /** The earlier runs whose messages the model is sent (`run.started`), oldest first; undefined before it, or in an older log. */
  historyRunIds: string[] | undefined
  /** The summary the run is sent before its history: the one it wrote (`context.summarized`), else the session's it started with (`summary_run_id`, its text on the session). */
  summary: ContextSummary | undefined
  /** The run whose summary the run started with (`run.started`). */
  summaryRunId: string | undefined
  /** The first model turn's time to its first chunk (its `message.completed`); undefined until that turn completed. */
  firstTurnTtftMs: number | null | undefined
  endedAtMs: number | undefined
  terminal: boolean
  /** Milliseconds of execution in closed stretches: not queued, not waiting for a person, not down after a crash. */
  executionMs: number
  /** When the stretch executing now began; undefined while queued, waiting or ended. */
  executingSinceMs: number | undefined
  /** The time of the last event applied (where a stretch cut short by a crash ends). */
  lastEventMs: number | undefined
  /** The tokens and cost of the run's ended children; undefined while it has none. */
  childTotals: ChildTotals | undefined
  /** The agent the run goes on as after its last handoff (`agent.handoff`); undefined while it has made none. */
  agentId: string | undefined
  /** Handoffs made. */
  handoffs: number
  /** A workflow's committed steps, by position (`workflow.step_completed`, `workflow.step_failed`). */
  workflowSteps: WorkflowStepRecord[]
  /** The time (ms) each of a workflow's sleeps ends, by step position (`workflow.timer`). */
  workflowTimers: Map<number, number>
  /** The child run of each call that started one (`subrun.started`), by call id. */
  childCalls: Map<string, string>
  /** The children started and not yet recorded as ended (`subrun.completed`). */
  openChildren: Set<string>
  /** The run's memory extraction: `pending` from its `memory.update_started` to its end (`memory.update_completed` or `_failed`), then `done`; undefined without one. */
  memory: 'pending' | 'done' | undefined
  /** The route of the run's memory extraction (`memory.update_started`). */
  memoryRouteId: string | undefined
}

/** A workflow step as its log records it. */
export interface WorkflowStepRecord {
  name: string
  output?: Json
  error?: { code: ErrorCode; message: string }
}

/** Milliseconds the run has executed by `nowMs` (its limit's measure). */
export function executedMs(state: RunState, nowMs: number): number {
  return state.executionMs + (state.executingSinceMs === undefined ? 0 : Math.max(0, nowMs - state.executingSinceMs))
}

/** A fresh state for a run with these first messages. */
export function createRunState(messages: Message[]): RunState {
  return {
    messages,
    turns: 0,
    partialText: '',
    partialReasoning: '',
    stepSeq: 0,
    failedAttempts: 0,
    turnRouteId: undefined,
    fallbackUsage: undefined,
    executionMs: 0,
    executingSinceMs: undefined,
    lastEventMs: undefined,
    childTotals: undefined,
    agentId: undefined,
    handoffs: 0,
    workflowSteps: [],
    workflowTimers: new Map(),
    childCalls: new Map(),
    openChildren: new Set(),
    memory: undefined,
    memoryRouteId: undefined,
    toolPhase: undefined,
    stopContent: undefined,
    reasoning: [],
    usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, cacheWriteInputTokens: 0 },
    startedAtMs: undefined,
    historyRunIds: undefined,
    summary: undefined,
    summaryRunId: undefined,
    firstTurnTtftMs: undefined,
    endedAtMs: undefined,
    terminal: false,
  }
}

/**
 * Sets the user's message of a run that answers thread messages: its input
 * is known once it starts, and its record's `input` (written with
 * `run.started`) is what a replay starts from.
 */
export function setRunInput(state: RunState, input: string): void {
  const user = state.messages.find((message) => message.role === 'user')
  if (user !== undefined) user.content = input
}

/** Text a tool's output becomes in the conversation. */
export function outputText(output: Json): string {
  return typeof output === 'string' ? output : JSON.stringify(output)
}

function finishToolPhase(state: RunState, phase: ToolPhase, createdAt: string): void {
  for (const call of phase.calls) {
    const result = phase.results.get(call.id) as ToolResultData
    const message: Message = { role: 'tool', toolCallId: call.id, name: call.name, content: outputText(result.output), createdAt }
    if (result.is_error) message.isError = true
    if (result.stop_after_call === true && !result.is_error) {
      message.stopAfterToolCall = true
      state.stopContent ??= message.content
    }
    state.messages.push(message)
  }
  state.toolPhase = undefined
}

/**
 * Applies one event to the state. `timeMs` is the event's time as a number
 * (the loop passes the clock it stamped the event with, a replay parses it).
 */
export function applyEvent(state: RunState, event: RunEvent, timeMs: number): void {
  applyEventData(state, event, timeMs)
  state.lastEventMs = timeMs
}

/** Closes the stretch of execution open at `timeMs` (`maxDurationMs` counts these). */
function closeStretch(state: RunState, timeMs: number): void {
  if (state.executingSinceMs !== undefined) state.executionMs += Math.max(0, timeMs - state.executingSinceMs)
  state.executingSinceMs = undefined
}

function applyEventData(state: RunState, event: RunEvent, timeMs: number): void {
  switch (event.type) {
    case 'message.delta':
      if (event.data.channel === 'text') state.partialText += event.data.content
      else state.partialReasoning += event.data.content
      return
    case 'run.started':
      state.startedAtMs = timeMs
      state.executingSinceMs = timeMs
      state.historyRunIds = event.data.history_run_ids
      state.summaryRunId = event.data.summary_run_id
      if (event.data.memories !== undefined) addMemoryInstructions(state.messages, event.data.memories, event.createdAt)
      state.stepSeq = event.seq
      return
    case 'context.trimmed':
      state.historyRunIds = event.data.history_run_ids
      return
    case 'memory.update_started':
      state.memory = 'pending'
      state.memoryRouteId = event.data.route_id
      return
    // Not steps of the loop (they may land in the middle of a model turn): stepSeq stays.
    case 'memory.update_completed':
    case 'memory.update_failed':
      state.memory = 'done'
      addUsage(state, event.data.route_id, event.data.usage)
      return
    case 'context.summarized': {
      const data = event.data
      state.historyRunIds = data.history_run_ids
      state.summary = { summary: data.summary, coversThroughRunId: data.covers_through_run_id, runId: event.runId, createdAt: event.createdAt }
      state.summaryRunId = event.runId
      addUsage(state, data.route_id, data.usage)
      return
    }
    case 'message.completed': {
      const data = event.data
      const message: Message = { role: 'assistant', content: data.content, createdAt: event.createdAt }
      if (data.tool_calls.length > 0) message.toolCalls = data.tool_calls
      if (data.reasoning_content !== undefined && data.reasoning_content !== '') {
        message.reasoningContent = data.reasoning_content
        state.reasoning.push(data.reasoning_content)
      }
      if (data.reasoning_blocks !== undefined) message.reasoningBlocks = data.reasoning_blocks
      message.usage = {
        inputTokens: data.usage.input_tokens,
        outputTokens: data.usage.output_tokens,
        cachedInputTokens: data.usage.cached_input_tokens,
        reasoningTokens: data.usage.reasoning_tokens,
      }
      if (data.usage.cache_write_input_tokens !== undefined) message.usage.cacheWriteInputTokens = data.usage.cache_write_input_tokens
      state.messages.push(message)
      // A log written before turns recorded it has no figure: unknown, not guessed.
      if (state.turns === 0) state.firstTurnTtftMs = data.time_to_first_chunk_ms ?? null
      state.turns++
      state.usage.inputTokens += data.usage.input_tokens
      state.usage.outputTokens += data.usage.output_tokens
      state.usage.cachedInputTokens += data.usage.cached_input_tokens
      state.usage.reasoningTokens += data.usage.reasoning_tokens
      state.usage.cacheWriteInputTokens += data.usage.cache_write_input_tokens ?? 0
      state.partialText = ''
      state.partialReasoning = ''
      state.failedAttempts = 0
      if (state.turnRouteId !== undefined) addFallbackUsage(state, state.turnRouteId, data.usage)
      state.turnRouteId = undefined
      state.toolPhase =
        data.tool_calls.length === 0
          ? undefined
          : { calls: data.tool_calls, announced: new Map(), results: new Map(), requests: [], answers: new Map(), children: new Map() }
      state.stepSeq = event.seq
      return
    }
    case 'tool.call':
      state.toolPhase?.announced.set(event.data.tool_call_id, event.data)
      state.stepSeq = event.seq
      return
    case 'tool.result': {
      const phase = state.toolPhase
      state.stepSeq = event.seq
      if (phase === undefined) return
      phase.results.set(event.data.tool_call_id, event.data)
      if (phase.results.size === phase.calls.length) finishToolPhase(state, phase, event.createdAt)
      return
    }
    case 'run.waiting_for_input':
      // A workflow waits outside any model turn: its requests live in a phase of no calls.
      state.toolPhase ??= { calls: [], announced: new Map(), results: new Map(), requests: [], answers: new Map(), children: new Map() }
      state.toolPhase.requests = event.data.requests
      state.stepSeq = event.seq
      closeStretch(state, timeMs)
      return
    case 'run.input_received':
      state.toolPhase?.answers.set(requestKey(event.data), { approved: event.data.approved, content: event.data.content })
      state.stepSeq = event.seq
      // The answer to the last open request sets the run going again.
      if (state.executingSinceMs === undefined && state.toolPhase !== undefined && openRequests(state.toolPhase).length === 0) state.executingSinceMs = timeMs
      return
    case 'model.retry':
      // The failed attempt's deltas are void: content, reasoning and history keep only the attempt that succeeds.
      state.partialText = ''
      state.partialReasoning = ''
      state.failedAttempts = event.data.attempt
      state.stepSeq = event.seq
      return
    case 'model.fallback':
      // The failed route's last attempt is void; the next route counts its attempts from 1.
      state.partialText = ''
      state.partialReasoning = ''
      state.failedAttempts = 0
      state.turnRouteId = event.data.to_route_id
      state.stepSeq = event.seq
      return
    case 'run.resumed':
      // The interrupted turn's deltas are void; its retry streams them again.
      state.partialText = ''
      state.partialReasoning = ''
      state.stepSeq = event.seq
      // The time the run was down after a crash does not count: the cut stretch ended at its last event.
      if (state.executingSinceMs !== undefined) closeStretch(state, state.lastEventMs ?? timeMs)
      state.executingSinceMs = timeMs
      return
    case 'run.completed':
    case 'run.failed':
    case 'run.cancelled':
      state.terminal = true
      state.endedAtMs = timeMs
      closeStretch(state, timeMs)
      state.stepSeq = event.seq
      return
    case 'workflow.step_completed':
      state.workflowSteps[event.data.step] = { name: event.data.name, output: event.data.output }
      state.stepSeq = event.seq
      return
    case 'workflow.timer':
      state.workflowTimers.set(event.data.step, Date.parse(event.data.until))
      state.stepSeq = event.seq
      return
    case 'workflow.step_failed':
      state.workflowSteps[event.data.step] = { name: event.data.name, error: event.data.error }
      state.stepSeq = event.seq
      return
    case 'agent.handoff':
      state.agentId = event.data.to
      state.handoffs++
      state.stepSeq = event.seq
      return
    case 'subrun.started':
      state.toolPhase?.children.set(event.data.tool_call_id, event.data.child_run_id)
      state.childCalls.set(event.data.tool_call_id, event.data.child_run_id)
      state.openChildren.add(event.data.child_run_id)
      state.stepSeq = event.seq
      return
    case 'subrun.completed': {
      state.openChildren.delete(event.data.child_run_id)
      const { usage } = event.data
      const totals = (state.childTotals ??= { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, totalCostUsd: 0, creditsUsed: 0 })
      totals.inputTokens += usage.input_tokens
      totals.outputTokens += usage.output_tokens
      totals.cachedInputTokens += usage.cached_input_tokens
      totals.reasoningTokens += usage.reasoning_tokens
      totals.totalCostUsd = Math.round((totals.totalCostUsd + event.data.total_cost_usd) * 1e10) / 1e10
      totals.creditsUsed += event.data.credits_used
      state.stepSeq = event.seq
      return
    }
    case 'run.queued':
      return
  }
}

/** Rebuilds a run's state from its first messages and its whole log. */
export function replayRunState(messages: Message[], events: readonly RunEvent[]): RunState {
  const state = createRunState(messages)
  for (const event of events) applyEvent(state, event, Date.parse(event.createdAt))
  return state
}

/**
 * What tells a request (or its answer) apart in a run: its tool call id,
 * prefixed by the child run's id for a child's request the run mirrors
 * (tool call ids are only unique within one run).
 */
export function requestKey(request: { tool_call_id: string; run_id?: string | undefined }): string {
  return request.run_id === undefined ? request.tool_call_id : `${request.run_id}/${request.tool_call_id}`
}

/** Open requests: asked for and not answered yet (the run's own and its children's). */
export function openRequests(phase: ToolPhase | undefined): InputRequest[] {
  if (phase === undefined) return []
  return phase.requests.filter((request) => !phase.answers.has(requestKey(request)))
}

/** The run's own open requests, without those of its children it mirrors. */
export function ownOpenRequests(phase: ToolPhase | undefined): InputRequest[] {
  return openRequests(phase).filter((request) => request.run_id === undefined)
}

/** Usage as event data. */
export function usageData(usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number; reasoningTokens?: number; cacheWriteInputTokens?: number }): UsageData {
  const data: UsageData = {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cached_input_tokens: usage.cachedInputTokens ?? 0,
    reasoning_tokens: usage.reasoningTokens ?? 0,
  }
  if (usage.cacheWriteInputTokens !== undefined && usage.cacheWriteInputTokens > 0) data.cache_write_input_tokens = usage.cacheWriteInputTokens
  return data
}

/**
 * The run's metrics from its state. Tokens are those of its completed model
 * turns. `timeToFirstTokenMs` is its first model turn's time from request to
 * first chunk (text, reasoning or a tool call), so it never holds queueing,
 * tool execution or a wait for input; null until that turn completed, or
 * when it streamed none. `durationMs` is wall time from `run.started` to
 * `endMs`, the time of the terminal event, waiting for input and tools
 * included; null while the run has not ended (`endMs` undefined).
 */
export function metricsOf(state: RunState, endMs: number | undefined): RunMetrics {
  const { inputTokens, outputTokens, cachedInputTokens, reasoningTokens } = state.usage
  const started = state.startedAtMs
  return {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
    cachedInputTokens,
    reasoningTokens,
    timeToFirstTokenMs: state.firstTurnTtftMs ?? null,
    durationMs: started === undefined || endMs === undefined ? null : endMs - started,
  }
}

/** Metrics as event data. */
export function metricsData(metrics: RunMetrics): MetricsData {
  return {
    input_tokens: metrics.inputTokens,
    output_tokens: metrics.outputTokens,
    total_tokens: metrics.totalTokens,
    cached_input_tokens: metrics.cachedInputTokens,
    reasoning_tokens: metrics.reasoningTokens,
    time_to_first_token_ms: metrics.timeToFirstTokenMs,
    duration_ms: metrics.durationMs,
  }
}

/** Usage of a model call besides the turns (a summary, a memory extraction): priced by the route that made it (as a fallback's turns are); the run's own route counts in the rest. */
function addUsage(state: RunState, routeId: string, usage: UsageData): void {
  state.usage.inputTokens += usage.input_tokens
  state.usage.outputTokens += usage.output_tokens
  state.usage.cachedInputTokens += usage.cached_input_tokens
  state.usage.reasoningTokens += usage.reasoning_tokens
  state.usage.cacheWriteInputTokens += usage.cache_write_input_tokens ?? 0
  addFallbackUsage(state, routeId, usage)
}

function addFallbackUsage(state: RunState, routeId: string, usage: UsageData): void {
  const byRoute = (state.fallbackUsage ??= new Map())
  const entry = byRoute.get(routeId)
  if (entry === undefined) {
    byRoute.set(routeId, { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, cachedInputTokens: usage.cached_input_tokens, cacheWriteInputTokens: usage.cache_write_input_tokens ?? 0 })
    return
  }
  entry.inputTokens += usage.input_tokens
  entry.outputTokens += usage.output_tokens
  entry.cachedInputTokens += usage.cached_input_tokens
  entry.cacheWriteInputTokens = (entry.cacheWriteInputTokens ?? 0) + (usage.cache_write_input_tokens ?? 0)
}
