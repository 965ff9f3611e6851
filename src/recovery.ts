/**
 * Recovery: taking over the unfinished runs a runtime may execute, rebuilt
 * from their logs (the same fold the loop uses), then queued, held or resumed
 * by the scheduler.
 */
import { failRun } from './agent-loop.js'
import { agentToolTarget } from './agent-tools.js'
import type { Agent } from './agents.js'
import type { EventHub } from './event-stream.js'
import type { RunEvent } from './events.js'
import type { Ownership } from './ownership.js'
import type { ResolvedRoute } from './routes.js'
import { RunLog } from './run-log.js'
import { openRequests, replayRunState } from './run-state.js'
import { initialMessages, type ActiveRun } from './active-run.js'
import type { Scheduler } from './scheduler.js'
import { isTerminalStatus, type Run, type Store } from './store.js'
import type { Logger } from './logger.js'

/** What recovery needs from the runtime. */
export interface RecoveryContext {
  store: Store
  hub: EventHub
  scheduler: Scheduler
  ownership: Ownership
  mode: 'resume' | 'fail'
  /** The agent and route of a run; throws when this runtime does not define them. */
  resolve: (run: Run) => { agent: Agent; route: ResolvedRoute }
  isClosed: () => boolean
  logger: Logger
}

async function readLog(store: Store, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = []
  for (;;) {
    const page = await store.readEvents(runId, events.length, 1000)
    events.push(...page)
    if (page.length < 1000) return events
  }
}

/** The recovery passes of one runtime (keyed by its scheduler): the one running and the one queued behind it. */
interface Passes {
  running: Promise<void> | undefined
  next: Promise<void> | undefined
}

const passesOf = new WeakMap<Scheduler, Passes>()

/**
 * Claims the runs this runtime should take over and hands each to the
 * scheduler. Passes of one runtime never overlap, and each starts after the
 * call that asked for it: a call made while a pass runs gets the next pass,
 * shared by every call made meanwhile (the running one may have read the
 * owners before the call's reason to claim arose).
 */
export function recoverRuns(context: RecoveryContext): Promise<void> {
  const own = passesOf.get(context.scheduler) ?? { running: undefined, next: undefined }
  passesOf.set(context.scheduler, own)
  if (own.next !== undefined) return own.next
  const start = (): Promise<void> => {
    const pass: Promise<void> = recoverPass(context).finally(() => {
      if (own.running === pass) own.running = undefined
    })
    own.running = pass
    return pass
  }
  if (own.running === undefined) return start()
  own.next = own.running
    .catch(() => {})
    .then(() => {
      own.next = undefined
      return start()
    })
  return own.next
}

async function recoverPass(context: RecoveryContext): Promise<void> {
  const { store, scheduler } = context
  const includeOwn = scheduler.takeDropped()
  const runs: Run[] = []
  try {
    const claimed = (await context.ownership.claim({ includeOwn })).filter((runId) => scheduler.get(runId) === undefined)
    for (const runId of claimed) {
      const run = await store.getRun(runId)
      if (run !== undefined && !isTerminalStatus(run.status)) runs.push(run)
    }
  } catch (error) {
    // The store is down (a server restart): the next pass must look for the dropped runs again, or they would stay unexecuted.
    if (includeOwn) scheduler.keepDropped()
    throw error
  }
  // In the claim's order, oldest first: a session's running or waiting run comes before the runs queued
  // behind it, since the store starts no run past an older queued one.
  for (const run of runs) {
    if (context.isClosed()) return
    let resolved
    try {
      resolved = context.resolve(run)
    } catch (error) {
      context.logger.error(`hearth: run ${run.id} cannot be recovered here: ${(error as Error).message}`)
      continue
    }
    const events = await readLog(store, run.id)
    const state = replayRunState(initialMessages(resolved.agent, run.input, run.createdAt), events)
    const log = new RunLog(store, context.hub, run, state)
    log.ownerId = context.ownership.ownerId
    takeOver(scheduler, scheduler.track(run, log, resolved.agent, resolved.route), events, context)
  }
}

/**
 * Hands a run found unfinished in the store to the scheduler: queued again,
 * held while it waits, or resumed (`resume`) from its last completed step;
 * `fail` ends it with `run.interrupted`.
 */
function takeOver(scheduler: Scheduler, active: ActiveRun, events: readonly RunEvent[], context: RecoveryContext): void {
  const { log, run } = active
  active.ready = true
  // Its session may be held by another process's run, or wait for an older queued one: claim it first.
  active.careful = true
  if (run.status === 'queued') return scheduler.enqueue(active)
  scheduler.hold(active)
  const phase = log.state.toolPhase
  // A run waiting on child runs resumes, whatever it waits for besides: its stretch follows them again.
  const onChildren = phase !== undefined && [...phase.children.keys()].some((callId) => !phase.results.has(callId))
  const waiting = run.status === 'waiting_for_input' && openRequests(phase).length > 0
  if (waiting && !onChildren) return
  const interrupt = (callId: string, name: string): void => {
    log.append('tool.result', { tool_call_id: callId, name, output: 'Interrupted: the process executing this call stopped', is_error: true, error_code: 'tool.interrupted' })
  }
  if (context.mode === 'fail') {
    if (phase !== undefined) for (const call of phase.calls) if (!phase.results.has(call.id)) interrupt(call.id, call.name)
    failRun({ log, route: active.route, creditsPerUsd: scheduler.creditsPerUsd }, { code: 'run.interrupted', message: 'The process executing this run stopped' })
    log.flush().then(
      () => scheduler.drop(active),
      (error: unknown) => context.logger.error(`hearth: could not fail interrupted run ${run.id}`, error),
    )
    return
  }
  const discardAfter = log.state.stepSeq
  log.append('run.resumed', { reason: 'recovered', discard_after_seq: discardAfter })
  if (phase !== undefined) {
    for (const call of phase.calls) {
      const announced = phase.announced.get(call.id)
      if (announced === undefined || phase.results.has(call.id)) continue
      const started = !announced.requires_confirmation || phase.answers.get(call.id)?.approved === true
      const definition = active.agent.tools.get(call.name)
      // An agent-tool call is never run twice: its child is stored once, and the resumed call adopts it.
      if (started && definition?.idempotent !== true && agentToolTarget(definition) === undefined) interrupt(call.id, call.name)
    }
  }
  // A run waiting for a person (its child's request) stays waiting while it follows its children again.
  if (events.length > 0 && log.state.startedAtMs !== undefined && !waiting) log.patch({ status: 'running' })
  scheduler.resume(active)
}
