/**
 * The wire shapes of the Runs API: the camelCase records of the core mapped
 * to the seed's snake_case names. Times are ISO 8601 strings or null.
 */
import type { InputRequest, Json, JsonObject, MetricsData } from '../../src/events.js'
import type { RunEvent } from '../../src/events.js'
import type { ErrorCode } from '../../src/errors.js'
import { metricsData } from '../../src/run-state.js'
import type { Run, RunMetrics, RunStatus, Session, ThreadMessage } from '../../src/store.js'
import type { RunTree } from '../../src/run-tree.js'

/** A thread as the API shows it. */
export interface ThreadWire {
  id: string
  org_id: string
  user_id: string | null
  type: 'agent' | 'team' | 'workflow'
  persona_id: string | null
  title: string | null
  metadata: JsonObject
  state: JsonObject
  created_at: string
  updated_at: string
}

/** A run in lists. */
export interface RunItemWire {
  run_id: string
  org_id: string
  thread_id: string
  status: RunStatus
  model: string
  persona_id: string
  total_input_tokens: number
  total_output_tokens: number
  total_cost_usd: number
  duration_ms: number | null
  cache_hit_rate: number
  credits_used: number
  created_at: string
  completed_at: string | null
  failed_at: string | null
  created_by_user_id: string | null
  created_by_user_name: string | null
  created_by_email: string | null
  /** The run that started this one as a child; null for a top-level run. */
  parent_run_id: string | null
}

/** One run with everything the API knows about it. */
export interface RunDetailsWire extends RunItemWire {
  trace_id: string
  input: string
  /** The thread messages the run answers (null for a run given `input`). */
  message_ids: string[] | null
  content: string | null
  /** For an agent with an output schema, the validated answer (the JSON of `content`) once completed; else null. */
  output: unknown
  reasoning_content: string | null
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> } | null
  pending_input: InputRequest[]
  metrics: MetricsData
  started_at: string | null
  cancelled_at: string | null
}

/** A thread message as the API shows it. */
export interface MessageWire {
  id: string
  thread_id: string
  role: 'user'
  content: string
  /** The run that took it; null while it is unanswered. */
  run_id: string | null
  created_at: string
}

/** A thread message for the wire. */
export function messageToWire(message: ThreadMessage): MessageWire {
  return {
    id: message.id,
    thread_id: message.sessionId,
    role: message.role,
    content: message.content,
    run_id: message.runId,
    created_at: message.createdAt,
  }
}

/** An event as sent in SSE frames. */
export interface EventWire {
  run_id: string
  thread_id: string
  seq: number
  type: RunEvent['type']
  data: Json
  created_at: string
}

/** A session as a thread. */
export function threadToWire(session: Session): ThreadWire {
  return {
    id: session.id,
    org_id: session.orgId,
    user_id: session.userId,
    type: session.type,
    persona_id: session.agent,
    title: session.title,
    metadata: session.metadata,
    state: session.state,
    created_at: session.createdAt,
    updated_at: session.updatedAt,
  }
}

/** A run as a list item. */
export function runItemToWire(run: Run): RunItemWire {
  return {
    run_id: run.id,
    org_id: run.orgId,
    thread_id: run.sessionId,
    status: run.status,
    model: run.model,
    persona_id: run.personaId,
    total_input_tokens: run.metrics.inputTokens,
    total_output_tokens: run.metrics.outputTokens,
    total_cost_usd: run.totalCostUsd,
    duration_ms: run.metrics.durationMs,
    cache_hit_rate: run.cacheHitRate,
    credits_used: run.creditsUsed,
    created_at: run.createdAt,
    completed_at: run.completedAt,
    failed_at: run.failedAt,
    created_by_user_id: run.createdBy?.userId ?? null,
    created_by_user_name: run.createdBy?.name ?? null,
    created_by_email: run.createdBy?.email ?? null,
    parent_run_id: run.parentRunId,
  }
}

/** Run metrics with the snake_case keys of `run.completed`. */
export const metricsToWire: (metrics: RunMetrics) => MetricsData = metricsData

/** A run with its details. */
export function runDetailsToWire(run: Run): RunDetailsWire {
  return {
    ...runItemToWire(run),
    trace_id: run.traceId,
    input: run.input,
    message_ids: run.messageIds,
    content: run.content,
    output: run.output,
    reasoning_content: run.reasoningContent,
    error: run.error,
    pending_input: run.pendingInput,
    metrics: metricsToWire(run.metrics),
    started_at: run.startedAt,
    cancelled_at: run.cancelledAt,
  }
}

/** A run with its child runs, recursively, as `GET /v1/runs/{run_id}/tree` shows it. */
export interface RunTreeWire {
  run: RunDetailsWire
  children: RunTreeWire[]
}

/** A run tree for the wire. */
export function runTreeToWire(tree: RunTree): RunTreeWire {
  return { run: runDetailsToWire(tree.run), children: tree.children.map(runTreeToWire) }
}

/** An event for the wire (`data` is already snake_case). */
export function eventToWire(event: RunEvent): EventWire {
  return {
    run_id: event.runId,
    thread_id: event.sessionId,
    seq: event.seq,
    type: event.type,
    data: event.data as unknown as Json,
    created_at: event.createdAt,
  }
}
