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
import type { Message } from './model.js'
import { setRunInput } from './run-state.js'
import type { ResolvedRoute } from './routes.js'
import type { RunLog } from './run-log.js'
import type { ActiveRun, Scheduler } from './scheduler.js'
import type { Run, RunPatch, Session, Store, ThreadMessage } from './store.js'

/** What a run reads before it starts. */
export interface StartPlan {
  /** The earlier runs whose messages the model is sent, oldest first. */
  historyRunIds: string[]
  history: Message[]
  /** For a run that answers thread messages: the unanswered ones, oldest first. */
  messages: ThreadMessage[] | undefined
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
  if (limit === 0) return []
  const runs = await store.listRuns({ sessionId: active.run.sessionId, statuses: ['completed'], limit, before: active.run.id })
  return runs.reverse()
}

/** The reads of a run's first stretch, before its `run.started`. */
export async function planStart(store: Store, active: ActiveRun): Promise<StartPlan> {
  // `messageIds` is [] on the record of a run created without input (null with input).
  const answers = active.run.messageIds !== null
  const [runs, messages] = answers
    ? await Promise.all([latestCompletedRuns(store, active), unansweredMessages(store, active.run.sessionId)])
    : [await latestCompletedRuns(store, active), undefined]
  return { historyRunIds: runs.map((run) => run.id), history: historyMessages(runs), messages }
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
  const data = { persona_id: run.personaId, route_id: run.routeId, model: run.model, model_provider: run.modelProvider, history_run_ids: plan.historyRunIds }
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
 * The history of a later stretch: the runs its `run.started` recorded, read
 * again (a pruned one is left out); a run started before they were recorded
 * sees the session's latest completed runs, as it did then.
 */
export async function historyOfStartedRun(store: Store, active: ActiveRun): Promise<Message[]> {
  const ids = active.log.state.historyRunIds
  if (ids === undefined) return historyMessages(await latestCompletedRuns(store, active))
  if (ids.length === 0) return []
  const runs = await Promise.all(ids.map((id) => store.getRun(id)))
  return historyMessages(runs.filter((run): run is Run => run !== undefined))
}

/** A new run on its way into its session's lane. */
export interface RunEntry {
  run: Run
  log: RunLog
  session: Session
  agent: Agent
  route: ResolvedRoute
  /** The owner the run is inserted for. */
  ownerId: string | undefined
  /** At the head of the lane (`multitask: 'interrupt'`). */
  first: boolean
}

/**
 * Inserts a new run and puts it in its session's lane. Resolves true once
 * the insert is committed; false when the store refused to let it start
 * because another run holds its session (nothing of it was stored then).
 */
export function enterRun(scheduler: Scheduler, entry: RunEntry): Promise<boolean> {
  const { run, log, session } = entry
  log.insert(run, entry.ownerId)
  const position = scheduler.waitPosition(session.id)
  if (position > 0) log.append('run.queued', { position })
  const active = scheduler.track(run, log, entry.agent, entry.route)
  if (position === 0) active.session = session
  // Join the lane before the first await so concurrent createRun calls keep their order.
  scheduler.enqueue(active, entry.first)
  // The run starts before its insert is committed, so the insert and the run's first events share
  // one commit; nothing is seen before it lands, and the loop commits before any tool executes.
  scheduler.markReady(active)
  // `then`, not an async function: one promise fewer on every run's way in.
  return log.committed().then(
    () => true,
    (error: unknown) => {
      scheduler.drop(active)
      if (position === 0 && isSessionBusy(error)) return false
      throw error
    },
  )
}
