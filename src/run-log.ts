/**
 * RunLog: the single writer of one run's events. It hands out dense seqs,
 * batches what the loop appends in one tick into one `store.commit`, and only
 * after that commit resolves passes the events to subscribers ("stored before
 * seen"). A terminal event seals the log: later appends are dropped, which is
 * how a cancelled run drops a slow tool's late result.
 */
import type { ContextSummary } from './context-window.js'
import type { EventDataMap, EventType, RunEvent } from './events.js'
import { terminalEventTypes } from './events.js'
import type { EventHub } from './event-stream.js'
import { applyEvent, type RunState } from './run-state.js'
import type { Commit, ControlSettlement, Run, RunPatch, Store } from './store.js'
import type { JsonObject } from './events.js'

/** Appends past this many uncommitted events make the loop wait for a commit. */
export const maxBacklog = 512

/** A run's committed events held for its readers, at most; past it, readers read the store. */
export const maxHeldEvents = 256

let lastStampMs = -1
let lastStamp = ''

/** The ISO time of `timeMs`, reusing the last string within the same millisecond. */
export function isoTime(timeMs: number): string {
  if (timeMs !== lastStampMs) {
    lastStampMs = timeMs
    lastStamp = new Date(timeMs).toISOString()
  }
  return lastStamp
}

/** Writes one run's events. */
export class RunLog {
  readonly runId: string
  readonly sessionId: string
  readonly state: RunState
  /** The seq of the last event appended. */
  seq: number
  /** True once a terminal event was appended. */
  sealed = false
  /** The error of a failed commit; once set, the log writes nothing more. */
  broken: unknown = undefined
  /** False from `insert()` until the commit carrying the run's insert has landed. */
  stored = true
  /**
   * The run's committed events (seq 1 at index 0), held so that a reader who
   * joins while the run executes replays them without reading the store.
   * Only for a run this log wrote from its start, and only up to
   * {@link maxHeldEvents}: then (or on `release()`) undefined.
   */
  held: RunEvent[] | undefined

  readonly #store: Store
  readonly #hub: EventHub
  #pending: RunEvent[] = []
  #insert: Run | undefined
  /** The owner this runtime writes as, checked by the store on every commit. */
  ownerId: string | undefined
  /**
   * The run the session should pass to when this run ends (the next of its
   * lane here), asked when the commit that ends it is made; undefined: freed.
   */
  successor: (() => string | undefined) | undefined
  /** The run the store passed the session to when this run ended, if it did. */
  passedTo: string | undefined
  #patch: RunPatch | undefined
  #sessionState: Commit['sessionState']
  #contextSummary: Commit['contextSummary']
  #answer: Commit['answerMessages']
  #memoryWrites: Commit['memoryWrites']
  #settlements: ControlSettlement[] | undefined
  #chain: Promise<void> = Promise.resolve()
  #scheduled = false
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] | undefined

  constructor(store: Store, hub: EventHub, run: Pick<Run, 'id' | 'sessionId' | 'lastSeq'>, state: RunState) {
    this.#store = store
    this.#hub = hub
    this.runId = run.id
    this.sessionId = run.sessionId
    this.seq = run.lastSeq
    this.state = state
    this.held = run.lastSeq === 0 ? [] : undefined
  }

  /** Stops holding committed events (the run waits, and may wait long). */
  release(): void {
    this.held = undefined
  }

  /** Events appended and not committed yet. */
  get backlog(): number {
    return this.#pending.length
  }

  /** Inserts the run itself with the next commit, owned by `ownerId` when given. */
  insert(run: Run, ownerId?: string): void {
    this.#insert = run
    this.ownerId = ownerId
    this.stored = false
  }

  /**
   * Appends an event (applied to `state` at once, committed with the next
   * flush). Dropped once sealed; throws the commit error once broken, so the
   * loop stops instead of running on a log that no longer records it.
   */
  append<T extends EventType>(type: T, data: EventDataMap[T], timeMs = Date.now()): RunEvent | undefined {
    if (this.broken !== undefined) throw this.broken
    if (this.sealed) return undefined
    const event = { runId: this.runId, sessionId: this.sessionId, seq: ++this.seq, type, data, createdAt: isoTime(timeMs) } as RunEvent
    applyEvent(this.state, event, timeMs)
    this.#pending.push(event)
    if (terminalEventTypes.has(type)) this.sealed = true
    this.#schedule()
    return event
  }

  /** Changes run fields in the same commit as the events appended around it. */
  patch(patch: RunPatch): void {
    if (this.broken !== undefined) return
    this.#patch = this.#patch === undefined ? patch : Object.assign(this.#patch, patch)
    this.#schedule()
  }

  /** Writes the session state with the next commit. */
  setSessionState(state: JsonObject, updatedAt: string): void {
    this.#sessionState = { sessionId: this.sessionId, state, updatedAt }
    this.#schedule()
  }

  /** Keeps this summary on the session with the next commit (the one of its `context.summarized`). */
  setContextSummary(summary: ContextSummary): void {
    this.#contextSummary = { sessionId: this.sessionId, summary }
    this.#schedule()
  }

  /** Writes these user memories with the next commit (the one of their `memory.update_completed`). */
  writeMemories(writes: NonNullable<Commit['memoryWrites']>): void {
    this.#memoryWrites = writes
    this.#schedule()
  }

  /** Gives the run these thread messages with the next commit (the store refuses ones another run took). */
  answerMessages(messageIds: readonly string[]): void {
    this.#answer = { runId: this.runId, messageIds }
    this.#schedule()
  }

  /** Settles an accepted control request in the next commit, with the events that apply it. */
  settleControl(settlement: ControlSettlement): void {
    ;(this.#settlements ??= []).push(settlement)
    this.#schedule()
  }

  /**
   * Resolves once everything appended so far is committed, by the next
   * flush, without forcing one: what the run appends meanwhile rides in the
   * same commit.
   */
  committed(): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.broken)
    if (!this.#hasPending()) return this.#chain
    this.#schedule()
    return new Promise((resolve, reject) => {
      ;(this.#waiters ??= []).push({ resolve, reject })
    })
  }

  /** Commits everything appended so far; resolves once it is stored and published. */
  flush(): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.broken)
    if (!this.#hasPending()) return this.#chain
    const commit: Commit = {}
    if (this.#insert !== undefined) commit.insertRun = this.#insert
    if (this.ownerId !== undefined) commit.ownerId = this.ownerId
    if (this.#patch !== undefined) commit.run = { id: this.runId, patch: this.#patch }
    const events = this.#pending
    if (events.length > 0) commit.events = events
    if (this.#sessionState !== undefined) commit.sessionState = this.#sessionState
    if (this.#answer !== undefined) commit.answerMessages = this.#answer
    if (this.#contextSummary !== undefined) {
      commit.contextSummary = this.#contextSummary
      this.#contextSummary = undefined
    }
    if (this.#settlements !== undefined) commit.settleControls = this.#settlements
    if (this.#memoryWrites !== undefined) {
      commit.memoryWrites = this.#memoryWrites
      this.#memoryWrites = undefined
    }
    const ending = this.#patch?.status
    if (this.successor !== undefined && (ending === 'completed' || ending === 'failed' || ending === 'cancelled')) {
      const next = this.successor()
      if (next !== undefined) commit.passSessionTo = next
    }
    this.#insert = undefined
    this.#settlements = undefined
    this.#patch = undefined
    this.#sessionState = undefined
    this.#answer = undefined
    this.#pending = []
    const landed = commit.insertRun === undefined ? this.#publish : this.#storeAndPublish
    this.#chain = this.#chain.then(() =>
      this.#store.commit(commit).then(() => {
        if (commit.sessionPassed === true) this.passedTo = commit.passSessionTo
        landed(events)
      }, this.#fail),
    )
    const waiters = this.#waiters
    if (waiters !== undefined) {
      this.#waiters = undefined
      this.#chain.then(
        () => {
          for (const waiter of waiters) waiter.resolve()
        },
        (error: unknown) => {
          for (const waiter of waiters) waiter.reject(error)
        },
      )
    }
    return this.#chain
  }

  #hasPending(): boolean {
    return this.#pending.length > 0 || this.#patch !== undefined || this.#insert !== undefined || this.#sessionState !== undefined || this.#answer !== undefined || this.#settlements !== undefined || this.#contextSummary !== undefined
  }

  readonly #publish = (events: RunEvent[]): void => {
    const held = this.held
    if (held !== undefined) {
      // Dropped, not emptied: a reader still walking the array stops at its end and goes live.
      if (held.length + events.length > maxHeldEvents) this.held = undefined
      else for (let index = 0; index < events.length; index++) held.push(events[index] as RunEvent)
    }
    this.#hub.publish(events)
  }

  readonly #storeAndPublish = (events: RunEvent[]): void => {
    this.stored = true
    this.#publish(events)
  }

  readonly #fail = (error: unknown): never => {
    this.broken ??= error
    this.#pending = []
    throw this.broken
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // setImmediate lets every append of this tick (a burst of deltas) share one commit.
    setImmediate(this.#autoFlush)
  }

  readonly #autoFlush = (): void => {
    this.#scheduled = false
    this.flush().catch(() => {
      // Recorded in `broken`; the loop reports it at its next await.
    })
  }
}
