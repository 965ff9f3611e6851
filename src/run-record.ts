/**
 * A new run's record, before it is stored.
 */
import { createId } from './ids.js'
import type { ResolvedRoute } from './routes.js'
import type { Caller, Run, RunLimits } from './store.js'

/** A queued run with empty figures. */
export function createRunRecord(fields: {
  sessionId: string
  orgId: string
  traceId: string
  personaId: string
  route: Pick<ResolvedRoute, 'id' | 'model' | 'providerName'>
  input: string
  /** `[]` for a run that answers the thread's messages (taken when it starts), null for a run given `input`. */
  messageIds: string[] | null
  createdBy: Caller | null
  createdAt: string
  /** The limits it executes under. @default null */
  limits?: RunLimits | null
  /** For a child run: its parent and the parent's tool call that starts it. @default undefined (a top-level run) */
  parent?: { run: Pick<Run, 'id' | 'rootRunId' | 'depth'>; toolCallId: string }
}): Run {
  const id = createId('run')
  const parent = fields.parent
  return {
    id,
    sessionId: fields.sessionId,
    orgId: fields.orgId,
    traceId: fields.traceId,
    personaId: fields.personaId,
    routeId: fields.route.id,
    model: fields.route.model,
    modelProvider: fields.route.providerName,
    status: 'queued',
    input: fields.input,
    messageIds: fields.messageIds,
    limits: fields.limits ?? null,
    content: null,
    output: null,
    reasoningContent: null,
    messages: [],
    metrics: { inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, timeToFirstTokenMs: null, durationMs: null },
    totalCostUsd: 0,
    cacheHitRate: 0,
    creditsUsed: 0,
    error: null,
    pendingInput: [],
    createdBy: fields.createdBy,
    lastSeq: 0,
    createdAt: fields.createdAt,
    startedAt: null,
    completedAt: null,
    failedAt: null,
    cancelledAt: null,
    parentRunId: parent?.run.id ?? null,
    rootRunId: parent?.run.rootRunId ?? id,
    depth: parent === undefined ? 0 : parent.run.depth + 1,
    parentToolCallId: parent?.toolCallId ?? null,
  }
}
