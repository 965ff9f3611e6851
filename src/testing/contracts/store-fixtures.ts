/**
 * Records for store tests: a session, a run of it and a delta event, with
 * fields a store must keep. Used by the Store contract and by adapter tests.
 */
import { createId, createTraceId } from '../../ids.js'
import type { RunEvent } from '../../events.js'
import type { Run, Session, Store, ThreadMessage } from '../../store.js'

/** What a contract factory returns. */
export interface StoreFixture {
  store: Store
  /** Closes the store and opens a new one on the same data (omit for stores that keep nothing). */
  reopen?: () => Promise<Store>
  /** Removes files and the like. */
  cleanup?: () => Promise<void>
}

/** An ISO time `offset` milliseconds after 2026-01-01. */
export const iso = (offset = 0): string => new Date(Date.UTC(2026, 0, 1) + offset).toISOString()

/** A session record in org `org_a`, with `overrides` applied. */
export function makeSession(overrides: Partial<Session> = {}): Session {
  return {
    id: createId('thr'),
    orgId: 'org_a',
    userId: 'user_1',
    type: 'agent',
    agent: 'support',
    title: 'A title',
    metadata: { tag: 'x' },
    state: {},
    createdBy: { userId: 'user_1', name: 'Alice' },
    activeRunId: null,
    contextSummary: null,
    createdAt: iso(),
    updatedAt: iso(),
    ...overrides,
  }
}

/** A queued run record of `session`, with `overrides` applied. */
export function makeRun(session: Session, overrides: Partial<Run> = {}): Run {
  const id = overrides.id ?? createId('run')
  return {
    id,
    sessionId: session.id,
    orgId: session.orgId,
    traceId: createTraceId(),
    personaId: 'support@1',
    routeId: 'default',
    model: 'test-model',
    modelProvider: 'scripted',
    status: 'queued',
    input: 'hello',
    messageIds: null,
    content: null,
    output: null,
    reasoningContent: null,
    messages: [],
    metrics: {
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      cachedInputTokens: 0,
      reasoningTokens: 0,
      timeToFirstTokenMs: null,
      durationMs: null,
    },
    totalCostUsd: 0,
    cacheHitRate: 0,
    creditsUsed: 0,
    error: null,
    limits: null,
    pendingInput: [],
    createdBy: { userId: 'user_1', name: 'Alice', email: 'a@example.com' },
    lastSeq: 0,
    createdAt: iso(),
    startedAt: null,
    completedAt: null,
    failedAt: null,
    cancelledAt: null,
    parentRunId: null,
    rootRunId: id,
    depth: 0,
    parentToolCallId: null,
    ...overrides,
  }
}

/** A queued child run of `parent` (in its session), started by the parent's tool call `toolCallId`. */
export function makeChildRun(parent: Run, toolCallId: string, overrides: Partial<Run> = {}): Run {
  const id = overrides.id ?? createId('run')
  return {
    ...makeRun({ id: parent.sessionId, orgId: parent.orgId } as Session, { id }),
    parentRunId: parent.id,
    rootRunId: parent.rootRunId,
    depth: parent.depth + 1,
    parentToolCallId: toolCallId,
    ...overrides,
  }
}

/** A `message.delta` event of `run` at `seq`. */
export function makeDelta(run: Run, seq: number, content = `d${seq}`): RunEvent {
  return { runId: run.id, sessionId: run.sessionId, seq, type: 'message.delta', data: { content, channel: 'text' }, createdAt: iso(seq) }
}


/** A thread message of `session`, unanswered, with `overrides` applied. */
export function makeMessage(session: Session, overrides: Partial<ThreadMessage> = {}): ThreadMessage {
  return { id: createId('msg'), sessionId: session.id, role: 'user', content: 'Hello there', runId: null, createdAt: iso(), ...overrides }
}
