/**
 * The in-memory Store: the embedded default. No I/O, so it lives in the core.
 * Everything is lost when the process ends; use `hearth-runtime/sqlite` to keep it.
 */
import { childExistsError, sessionBusyError, StorageError } from './errors.js'
import type { RunEvent } from './events.js'
import { MemoryControls } from './memory-controls.js'
import { MemoryMessages } from './memory-messages.js'
import { MemoryOwners } from './memory-owners.js'
import { claimBlocker, QueuedRuns } from './memory-session-claims.js'
import { MemoryUserMemories } from './memory-user-memories.js'
import type { MemoryOwner, MemoryPage, MemoryPatch, MemoryQuery, UserMemory } from './user-memories.js'
import {
  fixedRunFields,
  isTerminalStatus,
  type Commit,
  type ControlRequest,
  type MessageQuery,
  type Owner,
  type Run,
  type RunQuery,
  type Session,
  type SessionPatch,
  type SessionQuery,
  type Store,
  type ThreadMessage,
} from './store.js'


/** Fields a run patch may not change. */

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** The store's id (`db_id` of the Agno view). @default 'memory' */
  id?: string
  /**
   * How many finished runs (completed, failed, cancelled) the store keeps, at
   * some 5 KB each; past it, the run that finished longest ago goes, with its
   * events. Unfinished runs are never dropped. `Infinity` keeps every run.
   * @default 1000
   */
  maxFinishedRuns?: number
  /**
   * How many user memories the store keeps in all; past it, the one updated
   * longest ago goes.
   * @default 10000
   */
  maxMemories?: number
}

/** Records are plain JSON, and a JSON round trip copies them faster than structuredClone. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** A JSON object's copy; an empty one (most sessions' state and metadata) without the round trip. */
function copyObject<T extends object>(value: T): T {
  for (const _ in value) return copy(value)
  return {} as T
}

/**
 * A session's copy: its JSON fields copied, the rest spread. Read for every
 * run that starts, it measured 4% of the core bench as one JSON round trip.
 */
function copySession(session: Session): Session {
  return {
    ...session,
    metadata: copyObject(session.metadata),
    state: copyObject(session.state),
    createdBy: session.createdBy === null ? null : { ...session.createdBy },
    contextSummary: session.contextSummary === null ? null : { ...session.contextSummary },
  }
}

const byIdDescending = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/**
 * A Store that keeps everything in memory. Reads return copies. Writes keep
 * the values they are given (a caller must not change them afterwards; the
 * runtime never does), which spares a copy of every record and message list.
 */
export class MemoryStore implements Store {
  readonly id: string
  readonly #sessions = new Map<string, Session>()
  readonly #runs = new Map<string, Run>()
  readonly #events = new Map<string, RunEvent[]>()
  /** Run ids of each session, in insertion order. */
  readonly #sessionRuns = new Map<string, string[]>()
  readonly #messages = new MemoryMessages()
  readonly #controls = new MemoryControls()
  readonly #memories: MemoryUserMemories
  /** The queued runs of each session, for the claim's "no older run queued". */
  readonly #queued = new QueuedRuns()
  readonly #watchers = new Set<() => void>()
  #notifying = false
  readonly #owners = new MemoryOwners()
  /** Finished runs in the order they finished (a Set keeps insertion order): the first is the next to go. */
  readonly #finished = new Set<string>()
  readonly #maxFinishedRuns: number
  #closed = false

  constructor(options: MemoryStoreOptions = {}) {
    if (options.id !== undefined && (typeof options.id !== 'string' || options.id === '')) {
      throw new TypeError(`Expected \`id\` to be a non-empty string, got \`${String(options.id)}\``)
    }
    const max = options.maxFinishedRuns ?? 1000
    if (max !== Infinity && !(Number.isSafeInteger(max) && max >= 1)) {
      throw new TypeError(`Expected \`maxFinishedRuns\` to be a positive integer or Infinity, got \`${String(options.maxFinishedRuns)}\``)
    }
    const maxMemories = options.maxMemories ?? 10_000
    if (!(Number.isSafeInteger(maxMemories) && maxMemories >= 1)) {
      throw new TypeError(`Expected \`maxMemories\` to be a positive integer, got \`${String(options.maxMemories)}\``)
    }
    this.id = options.id ?? 'memory'
    this.#maxFinishedRuns = max
    this.#memories = new MemoryUserMemories(maxMemories)
  }

  async open(): Promise<void> {
    this.#closed = false
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  async insertSession(session: Session): Promise<void> {
    this.#check()
    if (this.#sessions.has(session.id)) throw new StorageError('storage.failed', `Session ${session.id} already exists`)
    this.#sessions.set(session.id, { ...session })
  }

  async getSession(id: string): Promise<Session | undefined> {
    this.#check()
    const session = this.#sessions.get(id)
    return session === undefined ? undefined : copySession(session)
  }

  async listSessions(query: SessionQuery): Promise<Session[]> {
    this.#check()
    const result: Session[] = []
    for (const session of this.#sessions.values()) {
      if (session.orgId !== query.orgId) continue
      if (query.userId !== undefined && session.userId !== query.userId) continue
      if (query.before !== undefined && session.id >= query.before) continue
      result.push(session)
    }
    return result.sort(byIdDescending).slice(0, query.limit).map((session) => copySession(session))
  }

  async updateSession(id: string, patch: SessionPatch): Promise<Session | undefined> {
    this.#check()
    const session = this.#sessions.get(id)
    if (session === undefined) return undefined
    const updated = { ...session, ...patch }
    this.#sessions.set(id, updated)
    return copySession(updated)
  }

  async deleteSession(id: string): Promise<boolean> {
    this.#check()
    if (!this.#sessions.delete(id)) return false
    for (const runId of this.#sessionRuns.get(id) ?? []) {
      this.#runs.delete(runId)
      this.#events.delete(runId)
      this.#owners.removeRun(runId)
      this.#finished.delete(runId)
      this.#controls.removeRun(runId)
    }
    this.#sessionRuns.delete(id)
    this.#queued.removeSession(id)
    this.#messages.removeSession(id)
    this.#notify()
    return true
  }

  async insertMessage(message: ThreadMessage): Promise<void> {
    this.#check()
    if (this.#messages.get(message.id) !== undefined) throw new StorageError('storage.failed', `Message ${message.id} already exists`)
    if (!this.#sessions.has(message.sessionId)) throw new StorageError('storage.failed', `Session ${message.sessionId} does not exist`)
    this.#messages.insert(message)
    this.#notify()
  }

  async getMessage(id: string): Promise<ThreadMessage | undefined> {
    this.#check()
    return this.#messages.get(id)
  }

  async listMessages(query: MessageQuery): Promise<ThreadMessage[]> {
    this.#check()
    return this.#messages.list(query)
  }

  async getRun(id: string): Promise<Run | undefined> {
    this.#check()
    const run = this.#runs.get(id)
    return run === undefined ? undefined : copy(run)
  }

  async listRuns(query: RunQuery): Promise<Run[]> {
    this.#check()
    const ascending = query.order === 'asc'
    const result: Run[] = []
    const candidates = query.sessionId === undefined ? this.#runs.values() : this.#runsOfSession(query.sessionId)
    for (const run of candidates) {
      if (query.orgId !== undefined && run.orgId !== query.orgId) continue
      if (query.sessionId !== undefined && run.sessionId !== query.sessionId) continue
      if (query.parentRunId !== undefined && run.parentRunId !== query.parentRunId) continue
      if (query.topLevel === true && run.parentRunId !== null) continue
      if (query.statuses !== undefined && !query.statuses.includes(run.status)) continue
      if (query.before !== undefined && (ascending ? run.id <= query.before : run.id >= query.before)) continue
      result.push(run)
    }
    result.sort(byIdDescending)
    if (ascending) result.reverse()
    return result.slice(0, query.limit).map((run) => copy(run))
  }

  *#runsOfSession(sessionId: string): Generator<Run> {
    for (const runId of this.#sessionRuns.get(sessionId) ?? []) yield this.#runs.get(runId) as Run
  }

  async commit(commit: Commit): Promise<void> {
    this.#check()
    // Validate everything first so a rejected commit writes nothing.
    const inserted = commit.insertRun
    if (inserted !== undefined) {
      if (this.#runs.has(inserted.id)) throw new StorageError('storage.failed', `Run ${inserted.id} already exists`)
      if (!this.#sessions.has(inserted.sessionId)) throw new StorageError('storage.failed', `Session ${inserted.sessionId} does not exist`)
      if (inserted.lastSeq !== 0) throw new StorageError('storage.failed', 'A new run must have lastSeq 0')
      if (inserted.parentRunId !== null && inserted.parentToolCallId !== null) {
        // A child lives in its parent's session.
        for (const run of this.#runsOfSession(inserted.sessionId)) {
          if (run.parentRunId === inserted.parentRunId && run.parentToolCallId === inserted.parentToolCallId) throw childExistsError(inserted.parentRunId, inserted.parentToolCallId, run.id)
        }
      }
    }
    const runId = commit.run?.id ?? commit.events?.[0]?.runId ?? inserted?.id
    const existing = runId === undefined ? undefined : runId === inserted?.id ? inserted : this.#runs.get(runId)
    if (runId !== undefined && existing === undefined) throw new StorageError('storage.failed', `Run ${runId} does not exist`)
    if (commit.ownerId !== undefined && inserted === undefined && runId !== undefined && this.#owners.ownerOf(runId) !== commit.ownerId) {
      throw new StorageError('storage.conflict', `Run ${runId} is owned by another process`)
    }
    const events = commit.events
    if (events !== undefined && events.length > 0) {
      let expected = (existing as Run).lastSeq + 1
      for (const event of events) {
        if (event.runId !== runId) throw new StorageError('storage.failed', 'All events of a commit must belong to one run')
        if (event.seq !== expected) {
          throw new StorageError('storage.conflict', `Event seq ${event.seq} of run ${runId} is not the next one (${expected})`)
        }
        expected++
      }
    }
    const patch = commit.run?.patch
    if (patch !== undefined) {
      for (const field in patch) {
        if (fixedRunFields.has(field) && (patch as Record<string, unknown>)[field] !== undefined) {
          throw new StorageError('storage.failed', `A run patch cannot set \`${field}\``)
        }
      }
    }
    const sessionState = commit.sessionState
    if (sessionState !== undefined && !this.#sessions.has(sessionState.sessionId)) {
      throw new StorageError('storage.failed', `Session ${sessionState.sessionId} does not exist`)
    }
    const contextSummary = commit.contextSummary
    if (contextSummary !== undefined && !this.#sessions.has(contextSummary.sessionId)) {
      throw new StorageError('storage.failed', `Session ${contextSummary.sessionId} does not exist`)
    }
    const answered = commit.answerMessages === undefined ? undefined : this.#messages.toAnswer(commit.answerMessages, commit.answerMessages.runId === inserted?.id ? inserted : this.#runs.get(commit.answerMessages.runId))
    const settlements = commit.settleControls
    if (settlements !== undefined) this.#controls.checkSettlements(settlements)
    const writeMemories = commit.memoryWrites === undefined ? undefined : this.#memories.prepare(commit.memoryWrites)
    const status = patch?.status
    // A child run belongs to its parent's hold on the session: it neither claims nor frees it.
    const child = existing !== undefined && existing.parentRunId !== null
    const claims = !child && (status === 'running' || status === 'waiting_for_input')
    // A start (it sets startedAt) claims even when the run also ended within this commit: the runtime merges unflushed patches.
    if (claims || (!child && patch?.startedAt !== undefined && patch.startedAt !== null)) {
      const run = existing as Run
      const blocker = claimBlocker(this.#sessions.get(run.sessionId) as Session, run, this.#queued)
      if (blocker !== undefined) throw sessionBusyError(run.sessionId, run.id, blocker)
    }

    if (inserted !== undefined) {
      this.#runs.set(inserted.id, { ...inserted })
      this.#events.set(inserted.id, [])
      this.#owners.setOwner(inserted.id, commit.ownerId ?? null)
      const ids = this.#sessionRuns.get(inserted.sessionId)
      if (ids === undefined) this.#sessionRuns.set(inserted.sessionId, [inserted.id])
      else ids.push(inserted.id)
      // A run inserted and started in one commit (most runs) never counts as queued.
      const startsNow = commit.run?.id === inserted.id && status !== undefined && status !== 'queued'
      if (inserted.status === 'queued' && !startsNow && inserted.parentRunId === null) this.#queued.set(inserted, true)
    }
    if (runId !== undefined) {
      const run = this.#runs.get(runId) as Run
      if (patch !== undefined) {
        if (status !== undefined && run.status === 'queued' && status !== 'queued') this.#queued.set(run, false)
        // Like the SQLite store, a field set to undefined is left as it is.
        for (const field in patch) {
          const value = (patch as Record<string, unknown>)[field]
          if (value !== undefined) (run as unknown as Record<string, unknown>)[field] = value
        }
        if (claims) (this.#sessions.get(run.sessionId) as Session).activeRunId = run.id
        else if (!child && status !== undefined && isTerminalStatus(status)) {
          const session = this.#sessions.get(run.sessionId) as Session
          if (session.activeRunId === run.id) {
            session.activeRunId = null
            const next = commit.passSessionTo === undefined ? undefined : this.#runs.get(commit.passSessionTo)
            const passes = next !== undefined && next.sessionId === run.sessionId && next.status === 'queued' && next.parentRunId === null && claimBlocker(session, next, this.#queued) === undefined
            if (passes) session.activeRunId = next.id
            if (commit.passSessionTo !== undefined) commit.sessionPassed = passes
          } else if (commit.passSessionTo !== undefined) commit.sessionPassed = false
        }
      }
      if (events !== undefined && events.length > 0) {
        const log = this.#events.get(runId) as RunEvent[]
        for (const event of events) log.push(event)
        run.lastSeq += events.length
      }
      if (isTerminalStatus(run.status) && !this.#finished.has(runId)) this.#finish(runId)
    }
    if (sessionState !== undefined) {
      const session = this.#sessions.get(sessionState.sessionId) as Session
      session.state = sessionState.state
      session.updatedAt = sessionState.updatedAt
    }
    if (contextSummary !== undefined) (this.#sessions.get(contextSummary.sessionId) as Session).contextSummary = { ...contextSummary.summary }
    if (answered !== undefined) for (const message of answered) message.runId = (commit.answerMessages as NonNullable<Commit['answerMessages']>).runId
    if (settlements !== undefined) this.#controls.settle(settlements)
    writeMemories?.()
    this.#notify()
  }

  async insertMemory(memory: UserMemory): Promise<void> {
    this.#check()
    this.#memories.insert(memory)
  }

  async getMemory(owner: MemoryOwner, id: string): Promise<UserMemory | undefined> {
    this.#check()
    return this.#memories.get(owner, id)
  }

  async listMemories(query: MemoryQuery): Promise<MemoryPage> {
    this.#check()
    return this.#memories.list(query)
  }

  async updateMemory(owner: MemoryOwner, id: string, patch: MemoryPatch): Promise<UserMemory | undefined> {
    this.#check()
    return this.#memories.update(owner, id, patch)
  }

  async deleteMemories(owner: MemoryOwner, ids: readonly string[]): Promise<number> {
    this.#check()
    return this.#memories.delete(owner, ids)
  }

  async memoryTopics(owner: MemoryOwner): Promise<string[]> {
    this.#check()
    return this.#memories.topics(owner)
  }

  async claimSession(runId: string): Promise<boolean> {
    this.#check()
    const run = this.#runs.get(runId)
    if (run === undefined || isTerminalStatus(run.status)) return false
    if (run.parentRunId !== null) return true
    const session = this.#sessions.get(run.sessionId) as Session
    if (session.activeRunId === runId) return true
    if (claimBlocker(session, run, this.#queued) !== undefined) return false
    session.activeRunId = runId
    this.#notify()
    return true
  }

  async insertControl(request: ControlRequest): Promise<boolean> {
    this.#check()
    const run = this.#runs.get(request.runId)
    if (run === undefined || isTerminalStatus(run.status)) return false
    this.#controls.insert(request)
    this.#notify()
    return true
  }

  async getControl(id: string): Promise<ControlRequest | undefined> {
    this.#check()
    return this.#controls.get(id)
  }

  async pendingControls(ownerId: string): Promise<ControlRequest[]> {
    this.#check()
    return this.#controls.open((runId) => this.#owners.ownerOf(runId) === ownerId)
  }

  async markControl(id: string, status: 'accepted' | 'withdrawn', at: string): Promise<boolean> {
    this.#check()
    const marked = this.#controls.mark(id, status, at)
    if (marked) this.#notify()
    return marked
  }

  /**
   * Calls `listener` (once per turn of the event loop) after writes, while at
   * least two watch: two runtimes sharing this store in one process learn of
   * each other's control requests, session releases and runs. A store with
   * one watcher has no one else to tell, so a lone runtime pays nothing;
   * only an owner's registration is told to a lone watcher (another runtime
   * has just joined).
   */
  watch(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`Expected \`listener\` to be a function, got \`${typeof listener}\``)
    const entry = (): void => listener()
    this.#watchers.add(entry)
    return () => {
      this.#watchers.delete(entry)
    }
  }

  #notify(watchers = 2): void {
    if (this.#watchers.size < watchers || this.#notifying) return
    this.#notifying = true
    setTimeout(() => {
      this.#notifying = false
      for (const listener of [...this.#watchers]) listener()
    }, 0)
  }

  async registerOwner(owner: Owner): Promise<void> {
    this.#check()
    this.#owners.register(owner)
    // Told to a lone watcher too: the runtime already open learns that another shares the store.
    this.#notify(1)
  }

  async heartbeat(ownerId: string, at: string): Promise<boolean> {
    this.#check()
    return this.#owners.heartbeat(ownerId, at)
  }

  async listOwners(): Promise<Owner[]> {
    this.#check()
    return this.#owners.list()
  }

  async removeOwner(ownerId: string): Promise<void> {
    this.#check()
    this.#owners.remove(ownerId)
  }

  async claimRuns(ownerId: string, fromOwners: readonly string[]): Promise<string[]> {
    this.#check()
    const claimed = this.#owners.claim(ownerId, fromOwners, (runId) => !isTerminalStatus((this.#runs.get(runId) as Run).status))
    if (claimed.length > 0) this.#notify()
    return claimed
  }

  async getRunOwner(runId: string): Promise<string | null> {
    this.#check()
    return this.#owners.ownerOf(runId) ?? null
  }

  async pruneRuns(finishedBefore: string, limit: number): Promise<number> {
    this.#check()
    let deleted = 0
    for (const run of this.#runs.values()) {
      if (deleted >= limit) break
      const endedAt = run.completedAt ?? run.failedAt ?? run.cancelledAt
      if (!isTerminalStatus(run.status) || endedAt === null || endedAt >= finishedBefore) continue
      this.#removeRun(run)
      deleted++
    }
    return deleted
  }

  async readEvents(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    this.#check()
    const log = this.#events.get(runId)
    if (log === undefined) return []
    // seq is dense from 1, so the event with seq n sits at index n - 1.
    const start = Math.max(0, Math.floor(afterSeq))
    return log.slice(start, start + limit)
  }

  /** Counts a run as finished, and drops the run that finished longest ago when there are too many. */
  #finish(runId: string): void {
    this.#finished.add(runId)
    if (this.#finished.size <= this.#maxFinishedRuns) return
    const oldest = this.#finished.values().next().value as string
    this.#removeRun(this.#runs.get(oldest) as Run)
  }

  #removeRun(run: Run): void {
    this.#runs.delete(run.id)
    this.#events.delete(run.id)
    this.#owners.removeRun(run.id)
    this.#finished.delete(run.id)
    this.#controls.removeRun(run.id)
    this.#queued.set(run, false)
    const ids = this.#sessionRuns.get(run.sessionId)
    if (ids !== undefined) ids.splice(ids.indexOf(run.id), 1)
  }

  #check(): void {
    if (this.#closed) throw new StorageError('storage.failed', 'The store is closed')
  }
}

/** Creates the in-memory Store. */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}
