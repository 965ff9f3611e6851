/**
 * The run event union. Every step of a run is one of these plain JSON objects,
 * with a dense per-run `seq` starting at 1. `data` keys are snake_case because
 * `data` is stored and sent on the wire as is.
 */
import type { ErrorCode } from './errors.js'
import type { ReasoningBlock } from './model.js'

/** A JSON value. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
/** A JSON object. */
export type JsonObject = { [key: string]: Json }

/** Token usage as stored in event data. */
export interface UsageData {
  input_tokens: number
  output_tokens: number
  cached_input_tokens: number
  reasoning_tokens: number
  /** Input tokens written to the provider's prompt cache (part of `input_tokens`); present when there were any. */
  cache_write_input_tokens?: number
}

/** Run metrics as stored in `run.completed` and on the run (camelCase there). */
export interface MetricsData {
  input_tokens: number
  output_tokens: number
  total_tokens: number
  cached_input_tokens: number
  reasoning_tokens: number
  time_to_first_token_ms: number | null
  duration_ms: number | null
}

/** A request the run waits on while `waiting_for_input`. */
export interface InputRequest {
  /** `tool_confirmation`: may this tool call run; `input`: a workflow asks for an answer (`ctx.waitForInput`). */
  kind: 'tool_confirmation' | 'input'
  tool_call_id: string
  tool: string
  arguments: Json
  prompt: string
  /**
   * The child run that asks, when the request is a child's (its parent
   * waits with it): input for it lands in that run's log. Absent for the
   * run's own requests.
   */
  run_id?: string
}

/** One change a memory extraction made. */
export interface MemoryChange {
  action: 'add' | 'update' | 'delete'
  memory_id: string
  /** The memory's text after the change; absent for a delete. */
  memory?: string
  topics?: string[]
}

/** `data` of each event type. */
export interface EventDataMap {
  'run.queued': { position: number }
  'run.started': {
    persona_id: string
    route_id: string
    model: string
    model_provider: string
    /** The earlier runs whose messages the model is sent as history, oldest first (absent in logs written before it was recorded). */
    history_run_ids?: string[]
    /** For a run started without `input`: the thread messages it answers, oldest first. */
    message_ids?: string[]
    /** The run whose `context.summarized` wrote the session summary this run is sent before its history (agents with `context.strategy: 'summarize'`). */
    summary_run_id?: string
    /** The user's memories the run's instructions carry (agents with `memory`), newest first; absent when none. */
    memories?: { memory_id: string; memory: string }[]
  }
  'message.delta': { content: string; channel: 'text' | 'reasoning' }
  'message.completed': {
    role: 'assistant'
    content: string
    reasoning_content?: string
    /** Reasoning blocks the provider needs back with the turn (Anthropic's signed and redacted thinking). */
    reasoning_blocks?: ReasoningBlock[]
    tool_calls: { id: string; name: string; arguments: string }[]
    usage: UsageData
    /**
     * Milliseconds from sending this turn's model request to its first text,
     * reasoning or tool-call chunk; null when it streamed none (absent in logs
     * written before it was recorded).
     */
    time_to_first_chunk_ms?: number | null
    /** The route that served the turn, and its model (absent in logs written before fallbacks). */
    route_id?: string
    model?: string
  }
  'tool.call': { tool_call_id: string; name: string; arguments: Json; requires_confirmation: boolean }
  'tool.result': {
    tool_call_id: string
    name: string
    output: Json
    is_error: boolean
    error_code?: ErrorCode
    stop_after_call?: boolean
  }
  'run.waiting_for_input': { requests: InputRequest[] }
  /** An answer; with `run_id`, an answer a child run received (in its own log), mirrored in its parent's. */
  'run.input_received': { tool_call_id: string; approved: boolean; content: string; run_id?: string }
  /** A workflow's step `step` (its position in call order) named `name` ran, and returned `output`. */
  'workflow.step_completed': { step: number; name: string; output: Json }
  /** A workflow's step `step` is a durable sleep (`ctx.sleep`) until `until` (ISO time); its `workflow.step_completed` follows once that time passed. */
  'workflow.timer': { step: number; until: string }
  /** A workflow's step threw: a replay throws the same `error` again at that step. */
  'workflow.step_failed': { step: number; name: string; error: { code: ErrorCode; message: string } }
  /**
   * The run was handed over (a `transfer_to_*` call, `tool_call_id`): from
   * the next model turn it goes on as agent `to` (`key@version`), its
   * instructions and tools; `from` is the agent it was.
   */
  'agent.handoff': { from: string; to: string; tool_call_id: string }
  /**
   * A tool call that names an agent (`agentTool`) started child run
   * `child_run_id` of agent `agent` (`key@version`) with `input`. The child
   * has its own log; the call's `tool.result` follows its `subrun.completed`.
   */
  'subrun.started': { child_run_id: string; agent: string; tool_call_id: string; input: string }
  /**
   * The child run of `tool_call_id` ended with `status`: `output` is its
   * answer (its `output` for an agent with an output schema, else its
   * content), or its error for a failed one; `usage` and the cost are the
   * child's own with its children's, and count in this run's.
   */
  'subrun.completed': {
    child_run_id: string
    tool_call_id: string
    status: 'completed' | 'failed' | 'cancelled'
    output: Json
    usage: UsageData
    total_cost_usd: number
    credits_used: number
  }
  'run.resumed': { reason: 'recovered' | 'input'; discard_after_seq: number }
  /**
   * A model turn's attempt failed with a retryable code and is tried again
   * after `delay_ms`: the events after `discard_after_seq` (its partial
   * deltas) are void.
   */
  'model.retry': { attempt: number; delay_ms: number; error: { code: ErrorCode; message: string }; discard_after_seq: number }
  /**
   * A route failed a model turn (after its retries) and the turn goes on with
   * the next of its fallbacks; the events after `discard_after_seq` (the last
   * attempt's partial deltas) are void.
   */
  'model.fallback': { from_route_id: string; to_route_id: string; error: { code: ErrorCode; message: string }; discard_after_seq: number }
  /**
   * The history did not fit the model's window: from the next model request
   * on, the run is sent only `history_run_ids` of its earlier runs (oldest
   * first); `dropped_run_ids` are left out from now on.
   */
  'context.trimmed': { history_run_ids: string[]; dropped_run_ids: string[]; estimated_tokens: number; max_input_tokens: number | null }
  /**
   * The older part of the history was replaced by a summary, written by
   * route `route_id`: it covers the session's runs through
   * `covers_through_run_id` (and the summary before it), and is kept on the
   * session for later runs. From the next model request on the run is sent
   * the summary, then `history_run_ids`.
   */
  'context.summarized': { summary: string; covers_through_run_id: string; history_run_ids: string[]; route_id: string; usage: UsageData }
  /** The extraction of user memories (an agent with `memory: 'auto'`) from the run's input began, on route `route_id`; it runs alongside the run. */
  'memory.update_started': { route_id: string; model: string }
  /**
   * The extraction's changes, committed with this event: counts, and each
   * change (`memory` absent for a delete). `usage` counts in the run's.
   */
  'memory.update_completed': { added: number; updated: number; deleted: number; changes: MemoryChange[]; route_id: string; usage: UsageData }
  /** The extraction failed (`provider.*`), timed out (`memory.timeout`), or the run ended before it did (`memory.abandoned`); the run goes on. */
  'memory.update_failed': { error: { code: ErrorCode; message: string }; route_id: string; usage: UsageData }
  'run.completed': { content: string; metrics: MetricsData }
  'run.failed': { error: { code: ErrorCode; message: string; details?: JsonObject } }
  'run.cancelled': { reason: string; content: string }
}

/** Every event type. */
export type EventType = keyof EventDataMap

/** The event types that end a run. */
export const terminalEventTypes: ReadonlySet<EventType> = new Set(['run.completed', 'run.failed', 'run.cancelled'])

/** One event of a run's log. */
export type RunEvent = {
  [T in EventType]: {
    runId: string
    sessionId: string
    seq: number
    type: T
    data: EventDataMap[T]
    /** ISO 8601 time (UTC, milliseconds). */
    createdAt: string
  }
}[EventType]

/** The event of type `T`. */
export type RunEventOf<T extends EventType> = Extract<RunEvent, { type: T }>

/** True for `run.completed`, `run.failed` and `run.cancelled`. */
export function isTerminalEvent(event: RunEvent): boolean {
  return terminalEventTypes.has(event.type)
}
