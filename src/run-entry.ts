/**
 * A new run's way in: its record and log, then its session's lane, with
 * the insert riding in the run's first commit. A runtime that executes
 * nothing (an observer) only stores it, unowned, for one that does.
 */
import type { Agent } from './agents.js'
import { initialMessages } from './active-run.js'
import { isSessionBusy } from './errors.js'
import type { EventHub } from './event-stream.js'
import { createTraceId } from './ids.js'
import { effectiveLimits } from './limits.js'
import type { ResolvedRoute } from './routes.js'
import { RunLog } from './run-log.js'
import { createRunRecord } from './run-record.js'
import { createRunState } from './run-state.js'
import type { Scheduler } from './scheduler.js'
import type { Caller, Run, RunLimits, Session, Store } from './store.js'

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

/** What {@link admitRun} needs of the runtime. */
export interface AdmitHost {
  store: Store
  hub: EventHub
  scheduler: Scheduler
  /** False for an observer, which only stores the run. */
  execute: boolean
  /** This runtime's owner id (undefined on a store that keeps no owners). */
  ownerId: string | undefined
}

/** A checked `createRun`'s run, before its record exists. */
export interface Admission {
  session: Session
  agent: Agent
  route: ResolvedRoute
  /** Undefined: the run answers the thread's unanswered messages, taken when it starts. */
  input: string | undefined
  createdBy: Caller | null
  traceId: string | undefined
  limits: RunLimits | undefined
  /** At the head of the lane (`multitask: 'interrupt'`). */
  first: boolean
  /** Another runtime's run holds the session: the run waits for the store to give it the session. */
  elsewhere: boolean
}

/** Makes the run's record and stores it (executing runtime: into its lane); resolves with the record once it is stored. */
export async function admitRun(host: AdmitHost, admission: Admission): Promise<Run> {
  const { session, agent, route, input } = admission
  const now = new Date().toISOString()
  const run = createRunRecord({
    sessionId: session.id,
    orgId: session.orgId,
    traceId: admission.traceId ?? createTraceId(),
    personaId: agent.id,
    route,
    input: input ?? '',
    // A run without input answers the thread's messages, taken when it starts.
    messageIds: input === undefined ? [] : null,
    createdBy: admission.createdBy,
    createdAt: now,
    limits: effectiveLimits(agent.limits, admission.limits),
  })
  const newLog = (): RunLog => new RunLog(host.store, host.hub, run, createRunState(initialMessages(agent, input ?? '', now)))
  const log = newLog()
  const { scheduler, ownerId } = host
  if (!host.execute) {
    // An observer stores the run unowned; an executing runtime on the store claims it.
    log.insert(run)
    await log.flush()
    return run
  }
  if (admission.elsewhere) scheduler.block(session.id)
  if (!(await enterRun(scheduler, { run, session, agent, route, ownerId, log, first: admission.first }))) {
    // Another runtime's run took the session between the read above and the insert: wait for it, queued.
    scheduler.block(session.id)
    await enterRun(scheduler, { run, session, agent, route, ownerId, log: newLog(), first: false })
  }
  return run
}
