/**
 * The scheduler: which run executes when. One active run per session (a
 * lane), a global limit on runs executing at once (p-queue), and the moves
 * between statuses that happen outside the loop: start, wait, answer, cancel,
 * recover. Every status change goes through the run's RunLog, so it commits
 * with its event.
 */
import PQueue from 'p-queue'
import { failRun, runAgentLoop, type LoopContext } from './agent-loop.js'
import type { ActiveRun } from './active-run.js'
import { runWorkflow } from './workflow-loop.js'
import { answerRun, cancelRun, type MoveHost } from './run-moves.js'
import type { ChildCalls } from './tool-phase.js'
import { StretchWatch } from './stretch-watch.js'
import type { Agent } from './agents.js'
import { isSessionBusy, toErrorInfo } from './errors.js'
import type { EventHub } from './event-stream.js'
import type { JsonObject, RunEvent } from './events.js'
import type { ResolvedRoute } from './routes.js'
import type { RunLog } from './run-log.js'
import { ownOpenRequests } from './run-state.js'
import { ContextWindow } from './context-window.js'
import { appendStart, historyOfStartedRun, planStart, type StartPlan } from './run-start.js'
import { injectedMemories, knownMemories, memoryOwner, runUser, startExtraction } from './run-memory.js'
import type { ControlSettlement, Run, Store } from './store.js'
import type { Logger } from './logger.js'

interface Lane {
  active: ActiveRun | undefined
  queue: ActiveRun[]
}

/** Settings of the scheduler. */
export interface SchedulerOptions {
  store: Store
  hub: EventHub
  concurrency: number
  toolConcurrency: number
  creditsPerUsd: number
  logger: Logger
  /** Called when a run was dropped on an error, so that recovery takes it up again soon. */
  onDropped?: () => void
  /** Called when a run that ended leaves the scheduler, with its events when all of them are held in memory. */
  onEnded?: (run: Run, events: readonly RunEvent[]) => void
  /** The agent a stretch executes with: its toolsets' current tools added (see Toolsets). @default the agent as it is */
  extendAgent?: (agent: Agent) => Agent
  /** Runs the agent-tool calls of a run's stretch as child runs (see ChildRuns). @default none: such a call fails */
  childCalls?: (active: ActiveRun) => ChildCalls
  /** Called when a stretch ended waiting on child runs: follow them, and wake the run when one ends. */
  onChildren?: (active: ActiveRun) => void
  /** The agent `key@version` (for a run handed off to it); throws when it is not defined. @default the run goes on as its agent */
  resolveAgent?: (id: string) => Agent
}

class ClosingSignal extends Error {
  constructor() {
    super('The runtime is closing')
  }
}

/** Decides when runs execute, and moves them between statuses. */
export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #queue: PQueue
  readonly #lanes = new Map<string, Lane>()
  readonly #active = new Map<string, ActiveRun>()
  /**
   * Sessions another process's run holds (or an older queued run of theirs
   * waits for): their next run starts only after claiming the session in the
   * store, tried again by `retryBlocked` after every change the store reports.
   */
  readonly #blocked = new Set<string>()
  /**
   * True while another runtime executes runs on the store: a run that waited
   * in its lane then claims its session before it starts, so that a run of
   * another process queued before it is not overtaken (and no model turn is
   * spent on a start the store would refuse).
   */
  shared = false
  #dropped = false
  #closing = false
  /** The timers that wake sleeping runs. */
  readonly #timers = new Map<ActiveRun, ReturnType<typeof setTimeout>>()

  constructor(options: SchedulerOptions) {
    this.#options = options
    this.#queue = new PQueue({ concurrency: options.concurrency })
  }

  /** True (once) when a run was dropped on an error since the last call: recovery then looks for it. */
  takeDropped(): boolean {
    const dropped = this.#dropped
    this.#dropped = false
    return dropped
  }

  /** Gives back what {@link takeDropped} took: the pass that was to look for the dropped runs failed (the store was down). */
  keepDropped(): void {
    this.#dropped = true
  }

  /** The run if this runtime holds it. */
  get(runId: string): ActiveRun | undefined {
    return this.#active.get(runId)
  }

  /** True when a run on the session is active or queued. */
  isBusy(sessionId: string): boolean {
    const lane = this.#lanes.get(sessionId)
    return lane !== undefined && (lane.active !== undefined || lane.queue.length > 0)
  }

  /** The active run of a session and the runs queued behind it. */
  runsOf(sessionId: string): ActiveRun[] {
    const lane = this.#lanes.get(sessionId)
    if (lane === undefined) return []
    return lane.active === undefined ? [...lane.queue] : [lane.active, ...lane.queue]
  }

  /** Marks a session as held by a run of another process: its runs here start only once the store gives it to them. */
  block(sessionId: string): void {
    this.#blocked.add(sessionId)
  }

  /** Tries again to start the next run of every blocked session (after the store changed). */
  retryBlocked(): void {
    for (const sessionId of this.#blocked) {
      const lane = this.#lanes.get(sessionId)
      if (lane === undefined) this.#blocked.delete(sessionId)
      else this.#pump(lane)
    }
  }

  /** Where a new run would wait: 0 when it would start at once. */
  waitPosition(sessionId: string): number {
    const lane = this.#lanes.get(sessionId)
    if (this.#blocked.has(sessionId)) return (lane?.queue.length ?? 0) + 1
    if (lane !== undefined && (lane.active !== undefined || lane.queue.length > 0)) return lane.queue.length + 1
    const queue = this.#queue
    const ahead = queue.pending + queue.size
    return ahead >= this.#options.concurrency ? ahead - this.#options.concurrency + 1 : 0
  }

  /** Makes an ActiveRun around a run record and its log. */
  track(run: Run, log: RunLog, agent: Agent, route: ResolvedRoute): ActiveRun {
    let release!: () => void
    const done = new Promise<void>((resolve) => {
      release = resolve
    })
    const controller = new AbortController()
    const active: ActiveRun = { run, log, agent, route, controller, ready: false, executing: false, careful: false, session: undefined, sessionPassed: false, done, release }
    this.#active.set(run.id, active)
    // While other runtimes share the store, a run that ends hands its session to the next of its lane here,
    // which then starts without claiming it first.
    if (run.parentRunId === null) log.successor = () => (this.shared ? this.#nextInLane(run) : undefined)
    return active
  }

  /** The run after `run` in its lane, when `run` is the lane's active one and the next is ready to start. */
  #nextInLane(run: Run): string | undefined {
    const lane = this.#lanes.get(run.sessionId)
    if (lane?.active?.run.id !== run.id) return undefined
    const next = lane.queue[0]
    return next !== undefined && next.ready && next.run.parentRunId === null ? next.run.id : undefined
  }

  /** Starts a child run at once: it runs under its parent's hold on the session, outside the session's lane. */
  startChild(active: ActiveRun): void {
    active.ready = true
    this.#schedule(active)
  }

  /** Schedules a stretch of a run held here that is not executing (a child it waits on ended, or asked for input). */
  wake(active: ActiveRun): void {
    if (this.#active.get(active.run.id) !== active || active.executing || active.log.sealed || this.#closing) return
    this.#schedule(active)
  }

  /** Wakes a run at `atMs` (a workflow's sleep); one timer a run, all cleared on close. */
  #wakeAt(active: ActiveRun, atMs: number): void {
    clearTimeout(this.#timers.get(active))
    const timer = setTimeout(() => {
      this.#timers.delete(active)
      this.wake(active)
    }, Math.max(0, atMs - Date.now()))
    this.#timers.set(active, timer)
  }

  /** Puts a run in its session's lane (at the front with `first`). Starts it once it is ready and first. */
  enqueue(active: ActiveRun, first = false): void {
    // A child (recovered queued) belongs to its parent's turn: no lane.
    if (active.run.parentRunId !== null) return this.startChild(active)
    const lane = this.#lane(active.run.sessionId)
    if (first) lane.queue.unshift(active)
    else lane.queue.push(active)
    this.#pump(lane)
  }

  /** The runtime's credits per USD, for the patches of runs that end outside the loop. */
  get creditsPerUsd(): number {
    return this.#options.creditsPerUsd
  }

  /** Makes a waiting or running run the active one of its lane (used by recovery). */
  hold(active: ActiveRun): void {
    if (active.run.parentRunId !== null) return
    this.#lane(active.run.sessionId).active = active
  }

  /** Marks a run's insert as committed, so it may start. */
  markReady(active: ActiveRun): void {
    active.ready = true
    const lane = this.#lanes.get(active.run.sessionId)
    if (lane !== undefined) this.#pump(lane)
  }

  /** Forgets a run whose insert failed. */
  drop(active: ActiveRun): void {
    this.#leave(active)
  }

  /** Schedules a loop stretch of a held run (after input, or on recovery). */
  resume(active: ActiveRun): void {
    this.#schedule(active)
  }

  #lane(sessionId: string): Lane {
    let lane = this.#lanes.get(sessionId)
    if (lane === undefined) {
      lane = { active: undefined, queue: [] }
      this.#lanes.set(sessionId, lane)
    }
    return lane
  }

  #pump(lane: Lane): void {
    if (lane.active !== undefined || this.#closing) return
    const next = lane.queue[0]
    if (next === undefined || !next.ready) return
    lane.queue.shift()
    lane.active = next
    this.#schedule(next)
  }

  #schedule(active: ActiveRun): void {
    active.executing = true
    this.#queue.add(() => this.#execute(active)).catch((error: unknown) => this.#drop(active, error))
  }

  /**
   * Stops the work of a run whose log broke here (the store failed, or another
   * process claimed the run); recovery takes it up again from what was committed.
   */
  #drop(active: ActiveRun, error: unknown): void {
    if (this.#active.get(active.run.id) !== active) return
    const busy = isSessionBusy(error)
    // Another process's run took the session first: recovery takes this run up again, queued, and it
    // waits for the session (nothing of its start was stored, and no tool ran before the commit).
    if (busy) this.#blocked.add(active.run.sessionId)
    this.#dropped = true
    active.executing = false
    active.controller.abort(error)
    active.watch?.abort(error)
    this.#leave(active)
    const reported = (): void => {
      if (!busy) this.#options.logger.error(`hearth: run ${active.run.id} stopped on an error`, error)
      this.#options.onDropped?.()
    }
    // A run that failed before its insert landed is stored once it lands, and taken up again then;
    // one whose insert failed is not logged: its createRun rejects with the error.
    if (active.log.stored) reported()
    else active.log.committed().then(reported, () => {})
  }

  async #execute(active: ActiveRun): Promise<void> {
    const { log, run } = active
    if (log.sealed || active.controller.signal.aborted) {
      active.executing = false
      return
    }
    const { store } = this.#options
    const starting = log.state.startedAtMs === undefined
    // A run straight from createRun (it has the session's snapshot) starts at once; the claim rides in its first commit.
    // A child runs under its parent's hold on the session: it has no claim to make.
    const careful = run.parentRunId === null && !active.sessionPassed && (active.careful || this.#blocked.has(run.sessionId) || (this.shared && active.session === undefined))
    if (starting && careful && !(await this.#claimSession(active))) return
    if (!this.#handOver(active)) return
    const extend = this.#options.extendAgent
    if (extend !== undefined) active.agent = extend(active.agent)
    // The session's state is only for tools, its user for tools and memory: other agents do not read it.
    const snapshot = active.session
    active.session = undefined
    const reading = active.agent.tools.size === 0 && active.agent.memory === undefined ? undefined : (snapshot ?? store.getSession(run.sessionId))
    // An agent with memory reads the user's memories, once it knows the user, when it starts or its extraction must start again.
    const recalling =
      active.agent.memory === undefined || !(starting || (log.state.memory === 'pending' && active.memoryTask === undefined))
        ? undefined
        : Promise.resolve(reading).then((session) => {
            const owner = memoryOwner(active, runUser(store, active, session))
            return owner === undefined ? undefined : knownMemories(store, owner, active).then((known) => ({ owner, known }))
          })
    const [session, plan, recalled] = await Promise.all([
      reading,
      starting ? planStart(store, active, snapshot) : historyOfStartedRun(store, active).then((history) => ({ history })),
      recalling,
    ])
    // Cancelled, or the runtime closing, while it read: a run that had not started stays queued.
    if (log.sealed || active.controller.signal.aborted) {
      active.executing = false
      return
    }
    if (starting && recalled !== undefined) (plan as StartPlan).memories = injectedMemories(active, recalled.known)
    if (starting && !appendStart(active, plan as StartPlan, this.#options.creditsPerUsd)) {
      active.executing = false
      await log.flush()
      this.#leave(active)
      return
    }
    if (recalled !== undefined) startExtraction(active, recalled.owner, recalled.known, starting)
    // Without a duration limit the turns stream under the run's own controller (see StretchWatch).
    const watch = (active.watch = new StretchWatch(run.limits?.maxDurationMs === undefined ? active : undefined))
    const context: LoopContext = {
      log,
      agent: active.agent,
      route: active.route,
      history: plan.history,
      window: new ContextWindow(active.agent.context, active.agent.fixedRequestBytes, active.route),
      signal: active.controller.signal,
      sessionState: (session?.state ?? {}) as JsonObject,
      toolConcurrency: this.#options.toolConcurrency,
      creditsPerUsd: this.#options.creditsPerUsd,
      logger: this.#options.logger,
      limits: run.limits,
      watch,
      user: runUser(store, active, session),
    }
    if (active.memoryTask !== undefined) context.memory = active.memoryTask
    const childCalls = this.#options.childCalls
    if (childCalls !== undefined) context.children = childCalls(active)
    let outcome
    try {
      outcome = await (active.agent.workflow === undefined ? runAgentLoop : runWorkflow)(context)
    } finally {
      active.executing = false
      watch.stop()
    }
    if (outcome === 'finished') this.#leave(active)
    else if (outcome === 'waiting') {
      // A run may wait for days: its readers can read the store.
      log.release()
      // Input may have arrived while this stretch was unwinding (readers see the
      // waiting event as soon as it is committed): continue at once if so.
      if (!log.sealed && ownOpenRequests(log.state.toolPhase).length === 0) this.#schedule(active)
    } else if (outcome === 'handoff') {
      this.#schedule(active)
    } else if (outcome === 'children') {
      // Its slot is given back: the children it waits on wake it when they end, and a timer when it is due.
      this.#options.onChildren?.(active)
      if (context.wakeAt !== undefined) this.#wakeAt(active, context.wakeAt)
    } else if (outcome === 'aborted' && active.controller.signal.reason instanceof ClosingSignal) {
      // Closing: keep what was appended; the next runtime on this store recovers the run.
      await log.flush().catch(() => {})
    }
  }

  /** Makes the run's agent the one its last handoff named; false (the run failed) when that agent is not defined here. */
  #handOver(active: ActiveRun): boolean {
    const current = active.log.state.agentId
    const resolve = this.#options.resolveAgent
    if (current === undefined || current === active.agent.id || resolve === undefined) return true
    try {
      active.agent = resolve(current)
      return true
    } catch (error) {
      failRun({ log: active.log, route: active.route, creditsPerUsd: this.#options.creditsPerUsd }, toErrorInfo(error))
      active.executing = false
      active.log.flush().then(
        () => this.#leave(active),
        (failure: unknown) => this.#drop(active, failure),
      )
      return false
    }
  }

  /** Claims the run's session in the store before it starts; false (the run back at the head of its lane) when it may not. */
  async #claimSession(active: ActiveRun): Promise<boolean> {
    const { run } = active
    const claimed = (await this.#options.store.claimSession?.(run.id)) ?? true
    if (claimed) {
      active.careful = false
      this.#blocked.delete(run.sessionId)
      return true
    }
    this.#blocked.add(run.sessionId)
    active.executing = false
    const lane = this.#lanes.get(run.sessionId)
    if (lane?.active === active) {
      lane.active = undefined
      lane.queue.unshift(active)
    }
    return false
  }

  #leave(active: ActiveRun): void {
    if (this.#active.get(active.run.id) !== active) return
    this.#active.delete(active.run.id)
    active.memoryTask?.stop()
    const { log } = active
    const timer = this.#timers.get(active)
    if (timer !== undefined) {
      clearTimeout(timer)
      this.#timers.delete(active)
    }
    const passed = log.passedTo === undefined ? undefined : this.#active.get(log.passedTo)
    if (passed !== undefined) passed.sessionPassed = true
    const held = log.held
    if (held !== undefined && log.state.terminal && held.length === log.seq && log.broken === undefined) this.#options.onEnded?.(active.run, held)
    const lane = active.run.parentRunId === null ? this.#lanes.get(active.run.sessionId) : undefined
    if (lane !== undefined) {
      if (lane.active === active) lane.active = undefined
      const index = lane.queue.indexOf(active)
      if (index !== -1) lane.queue.splice(index, 1)
      if (lane.active === undefined && lane.queue.length === 0) this.#lanes.delete(active.run.sessionId)
      else this.#pump(lane)
    }
    active.release()
  }

  /** Answers one open request of a waiting run; resumes it when none is left open (see run-moves.ts). */
  submitInput(active: ActiveRun, input: { content: string; approved?: boolean; toolCallId?: string }, settlement?: ControlSettlement): Promise<void> {
    return answerRun(this.#moves, active, input, settlement)
  }

  /** Cancels a run in any non-terminal status; resolves once `run.cancelled` is committed (see run-moves.ts). */
  cancel(active: ActiveRun, reason: string, settlement?: ControlSettlement): Promise<void> {
    return cancelRun(this.#moves, active, reason, settlement)
  }

  /** What the status moves outside the loop need of the scheduler. */
  readonly #moves: MoveHost = {
    schedule: (active) => this.#schedule(active),
    drop: (active, error) => this.#drop(active, error),
    leave: (active) => this.#leave(active),
    creditsPerUsd: () => this.#options.creditsPerUsd,
  }

  /** Stops taking runs, interrupts executing ones without ending them, and waits for their commits. */
  async close(): Promise<void> {
    this.#closing = true
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    const closing = new ClosingSignal()
    for (const active of this.#active.values()) {
      active.controller.abort(closing)
      active.watch?.abort(closing)
    }
    this.#queue.clear()
    await this.#queue.onIdle()
    await Promise.all([...this.#active.values()].map((active) => active.log.flush().catch(() => {})))
    for (const active of this.#active.values()) active.release()
    this.#active.clear()
    this.#lanes.clear()
  }
}
