/**
 * Starting a run: what it reads before its first event, and the `run.started`
 * that records it. Every run records which earlier runs' messages it is sent
 * as history (`history_run_ids`), so its later stretches (after input, after
 * a crash) and the Agno view read those runs' own records again instead of a
 * copy. A run created without `input` takes its thread's unanswered messages
 * here (`message_ids`), in the commit of its `run.started`.
 */
import { failRun } from './agent-loop.js'
import type { Agent } from './agents.js'
import { isSessionBusy } from './errors.js'
import { joinedInput, unansweredMessages } from './messages.js'
import { emptyHistory, historyRun, makeHistory, type ContextSummary, type History } from './context-window.js'
import type { EventDataMap } from './events.js'
import type { Message } from './model.js'
import { setRunInput } from './run-state.js'
import type { ResolvedRoute } from './routes.js'
import type { RunLog } from './run-log.js'
import type { ActiveRun } from './active-run.js'
import type { Scheduler } from './scheduler.js'
import type { Run, RunPatch, Session, Store, ThreadMessage } from './store.js'

/** What a run reads before it starts. */
export interface StartPlan {
  /** The earlier runs whose messages the model is sent, oldest first. */
  historyRunIds: string[]
  history: History
  /** For a run that answers thread messages: the unanswered ones, oldest first. */
  messages: ThreadMessage[] | undefined
  /** The run that wrote the session summary the run is sent first, if any. */
  summaryRunId: string | undefined
  /** The user's memories the run's instructions carry (an agent with `memory`), newest first. */
  memories?: { memory_id: string; memory: string }[]
}

/** The messages of `runs` (oldest first) as history: all but system prompts, marked `fromHistory`. */
export function historyMessages(runs: readonly Run[]): Message[] {
  const messages: Message[] = []
  for (const run of runs) for (const message of run.messages) if (message.role !== 'system') messages.push({ ...message, fromHistory: true })
  return messages
}

/** The session's latest completed runs before this one (the agent's `historyRuns`), oldest first. */
async function latestCompletedRuns(store: Store, active: ActiveRun): Promise<Run[]> {
  const limit = active.agent.historyRuns
  // A child run sees only what its parent's call gave it; the session's history is its top-level runs.
  if (limit === 0 || active.run.parentRunId !== null) return []
  const runs = await store.listRuns({ sessionId: active.run.sessionId, topLevel: true, statuses: ['completed'], limit, before: active.run.id })
  return runs.reverse()
}

/** The session's summary, for an agent that summarizes; `session` is the snapshot the run has, if any. */
async function sessionSummary(store: Store, active: ActiveRun, session: Session | undefined): Promise<ContextSummary | undefined> {
  if (active.agent.context.strategy !== 'summarize' || active.run.parentRunId !== null) return undefined
  return (session ?? (await store.getSession(active.run.sessionId)))?.contextSummary ?? undefined
}

/** The history these runs and this summary make, tool outputs cut as the agent says. */
function historyOf(active: ActiveRun, runs: readonly Run[], summary: ContextSummary | undefined): History {
  if (runs.length === 0 && summary === undefined) return emptyHistory
  const max = active.agent.context.maxToolOutputChars
  return makeHistory(
    runs.map((run) => historyRun(run, max)),
    summary,
  )
}

/** The reads of a run's first stretch, before its `run.started`; `session` is the snapshot the run has, if any. */
export async function planStart(store: Store, active: ActiveRun, session?: Session): Promise<StartPlan> {
  // `messageIds` is [] on the record of a run created without input (null with input).
  const answers = active.run.messageIds !== null
  if (!answers && active.agent.context.strategy !== 'summarize') {
    const runs = await latestCompletedRuns(store, active)
    return { historyRunIds: runs.map((run) => run.id), summaryRunId: undefined, history: historyOf(active, runs, undefined), messages: undefined }
  }
  const [latest, summary, messages] = await Promise.all([
    latestCompletedRuns(store, active),
    sessionSummary(store, active, session),
    answers ? unansweredMessages(store, active.run.sessionId) : undefined,
  ])
  // The runs the summary covers are in it.
  const runs = summary === undefined ? latest : latest.filter((run) => run.id > summary.coversThroughRunId)
  return { historyRunIds: runs.map((run) => run.id), summaryRunId: summary?.runId, history: historyOf(active, runs, summary), messages }
}

/**
 * Appends `run.started`, with what the plan recorded, and sets the run
 * running in the same commit; a run that answers thread messages takes them
 * in it too, its input their contents. One that finds none (a run before it
 * took them) fails at once with `state.invalid`: returns false then.
 */
export function appendStart(active: ActiveRun, plan: StartPlan, creditsPerUsd: number): boolean {
  const { log, run } = active
  const now = Date.now()
  const data: EventDataMap['run.started'] = { persona_id: run.personaId, route_id: run.routeId, model: run.model, model_provider: run.modelProvider, history_run_ids: plan.historyRunIds }
  if (plan.summaryRunId !== undefined) data.summary_run_id = plan.summaryRunId
  if (plan.memories !== undefined && plan.memories.length > 0) data.memories = plan.memories
  const patch: RunPatch = { status: 'running', startedAt: new Date(now).toISOString() }
  const messages = plan.messages
  if (messages === undefined) {
    log.append('run.started', data, now)
    log.patch(patch)
    return true
  }
  const messageIds = messages.map((message) => message.id)
  log.append('run.started', { ...data, message_ids: messageIds }, now)
  if (messageIds.length === 0) {
    log.patch(patch)
    failRun({ log, route: active.route, creditsPerUsd }, { code: 'state.invalid', message: `Session ${run.sessionId} had no unanswered message when run ${run.id} started` })
    return false
  }
  const input = joinedInput(messages)
  setRunInput(log.state, input)
  log.patch({ ...patch, input, messageIds })
  log.answerMessages(messageIds)
  return true
}

/**
 * The history of a later stretch: the runs its `run.started` recorded (or
 * its last `context.trimmed` or `context.summarized`), read again (a pruned
 * one is left out), after the summary it was sent; a run started before
 * they were recorded sees the session's latest completed runs, as it did then.
 */
export async function historyOfStartedRun(store: Store, active: ActiveRun): Promise<History> {
  const state = active.log.state
  const ids = state.historyRunIds
  if (ids === undefined) return historyOf(active, await latestCompletedRuns(store, active), undefined)
  const [runs, summary] = await Promise.all([Promise.all(ids.map((id) => store.getRun(id))), startedSummary(store, active)])
  return historyOf(
    active,
    runs.filter((run): run is Run => run !== undefined),
    summary,
  )
}

/** The summary a started run is sent: the one it wrote, else the session's it started with (while the session still has it). */
async function startedSummary(store: Store, active: ActiveRun): Promise<ContextSummary | undefined> {
  const { summary, summaryRunId } = active.log.state
  if (summary !== undefined || summaryRunId === undefined) return summary
  const kept = (await store.getSession(active.run.sessionId))?.contextSummary
  return kept?.runId === summaryRunId ? kept : undefined
}
