/**
 * The in-memory Store: the embedded default. No I/O, so it lives in the core.
 * Everything is lost when the process ends; use `hearth-runtime/sqlite` to keep it.
 */
import { StorageError } from './errors.js'
import type { RunEvent } from './events.js'
import {
  isTerminalStatus,
  type Commit,
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
const fixedRunFields: ReadonlySet<string> = new Set(['id', 'sessionId', 'orgId', 'createdAt', 'lastSeq'])

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
}

/** Records are plain JSON, and a JSON round trip copies them faster than structuredClone. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
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
  /** Messages by id, and the messages of each session in insertion order. */
  readonly #messages = new Map<string, ThreadMessage>()
  readonly #sessionMessages = new Map<string, ThreadMessage[]>()
  readonly #owners = new Map<string, Owner>()
  readonly #runOwners = new Map<string, string | null>()
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
    this.id = options.id ?? 'memory'
    this.#maxFinishedRuns = max
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
    return session === undefined ? undefined : copy(session)
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
    return result.sort(byIdDescending).slice(0, query.limit).map((session) => copy(session))
  }

  async updateSession(id: string, patch: SessionPatch): Promise<Session | undefined> {
    this.#check()
    const session = this.#sessions.get(id)
    if (session === undefined) return undefined
    const updated = { ...session, ...patch }
    this.#sessions.set(id, updated)
    return copy(updated)
  }

  async deleteSession(id: string): Promise<boolean> {
    this.#check()
    if (!this.#sessions.delete(id)) return false
    for (const runId of this.#sessionRuns.get(id) ?? []) {
      this.#runs.delete(runId)
      this.#events.delete(runId)
      this.#runOwners.delete(runId)
      this.#finished.delete(runId)
    }
    this.#sessionRuns.delete(id)
    for (const message of this.#sessionMessages.get(id) ?? []) this.#messages.delete(message.id)
    this.#sessionMessages.delete(id)
    return true
  }

  async insertMessage(message: ThreadMessage): Promise<void> {
    this.#check()
    if (this.#messages.has(message.id)) throw new StorageError('storage.failed', `Message ${message.id} already exists`)
    if (!this.#sessions.has(message.sessionId)) throw new StorageError('storage.failed', `Session ${message.sessionId} does not exist`)
    const kept = { ...message }
    this.#messages.set(kept.id, kept)
    const list = this.#sessionMessages.get(kept.sessionId)
    if (list === undefined) this.#sessionMessages.set(kept.sessionId, [kept])
    else list.push(kept)
  }

  async getMessage(id: string): Promise<ThreadMessage | undefined> {
    this.#check()
    const message = this.#messages.get(id)
    return message === undefined ? undefined : { ...message }
  }

  async listMessages(query: MessageQuery): Promise<ThreadMessage[]> {
    this.#check()
    const ascending = query.order === 'asc'
    const result: ThreadMessage[] = []
    for (const message of this.#sessionMessages.get(query.sessionId) ?? []) {
      if (query.unanswered === true && message.runId !== null) continue
      if (query.before !== undefined && (ascending ? message.id <= query.before : message.id >= query.before)) continue
      result.push(message)
    }
    result.sort(byIdDescending)
    if (ascending) result.reverse()
    return result.slice(0, query.limit).map((message) => ({ ...message }))
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
    }
    const runId = commit.run?.id ?? commit.events?.[0]?.runId ?? inserted?.id
    const existing = runId === undefined ? undefined : runId === inserted?.id ? inserted : this.#runs.get(runId)
    if (runId !== undefined && existing === undefined) throw new StorageError('storage.failed', `Run ${runId} does not exist`)
    if (commit.ownerId !== undefined && inserted === undefined && runId !== undefined && this.#runOwners.get(runId) !== commit.ownerId) {
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
    const answered = commit.answerMessages === undefined ? undefined : this.#messagesToAnswer(commit.answerMessages, inserted)

    if (inserted !== undefined) {
      this.#runs.set(inserted.id, { ...inserted })
      this.#events.set(inserted.id, [])
      this.#runOwners.set(inserted.id, commit.ownerId ?? null)
      const ids = this.#sessionRuns.get(inserted.sessionId)
      if (ids === undefined) this.#sessionRuns.set(inserted.sessionId, [inserted.id])
      else ids.push(inserted.id)
    }
    if (runId !== undefined) {
      const run = this.#runs.get(runId) as Run
      if (patch !== undefined) {
        // Like the SQLite store, a field set to undefined is left as it is.
        for (const field in patch) {
          const value = (patch as Record<string, unknown>)[field]
          if (value !== undefined) (run as unknown as Record<string, unknown>)[field] = value
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
    if (answered !== undefined) for (const message of answered) message.runId = (commit.answerMessages as NonNullable<Commit['answerMessages']>).runId
  }

  /** The messages `answerMessages` names, checked: each unanswered, of the run's session, named once. */
  #messagesToAnswer(answer: NonNullable<Commit['answerMessages']>, inserted: Run | undefined): ThreadMessage[] {
    const run = answer.runId === inserted?.id ? inserted : this.#runs.get(answer.runId)
    if (run === undefined) throw new StorageError('storage.failed', `Run ${answer.runId} does not exist`)
    if (new Set(answer.messageIds).size !== answer.messageIds.length) throw new StorageError('storage.failed', 'A message is named twice in `answerMessages`')
    return answer.messageIds.map((id) => {
      const message = this.#messages.get(id)
      if (message === undefined || message.sessionId !== run.sessionId) {
        throw new StorageError('storage.failed', `Message ${id} is not a message of session ${run.sessionId}`)
      }
      if (message.runId !== null) throw new StorageError('storage.conflict', `Message ${id} was already taken by run ${message.runId}`)
      return message
    })
  }

  async registerOwner(owner: Owner): Promise<void> {
    this.#check()
    this.#owners.set(owner.id, { ...owner })
  }

  async heartbeat(ownerId: string, at: string): Promise<boolean> {
    this.#check()
    const owner = this.#owners.get(ownerId)
    if (owner === undefined) return false
    owner.heartbeatAt = at
    return true
  }

  async listOwners(): Promise<Owner[]> {
    this.#check()
    return [...this.#owners.values()].map((owner) => ({ ...owner }))
  }

  async removeOwner(ownerId: string): Promise<void> {
    this.#check()
    this.#owners.delete(ownerId)
  }

  async claimRuns(ownerId: string, fromOwners: readonly string[]): Promise<string[]> {
    this.#check()
    const from = new Set(fromOwners)
    const claimed: string[] = []
    for (const [runId, owner] of this.#runOwners) {
      const run = this.#runs.get(runId) as Run
      if (isTerminalStatus(run.status)) continue
      if (owner === null || from.has(owner) || !this.#owners.has(owner)) {
        this.#runOwners.set(runId, ownerId)
        claimed.push(runId)
      }
    }
    for (const owner of from) this.#owners.delete(owner)
    return claimed.sort()
  }

  async getRunOwner(runId: string): Promise<string | null> {
    this.#check()
    return this.#runOwners.get(runId) ?? null
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
    this.#runOwners.delete(run.id)
    this.#finished.delete(run.id)
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
