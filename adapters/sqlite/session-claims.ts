/**
 * The session claim in the SQLite store: `sessions.active_run_id` names the
 * run that holds a session. A commit that moves a run to `running` or
 * `waiting_for_input` claims it in the same transaction, and one that ends
 * the run frees it; `claimSession` takes it ahead of a run's start. A run
 * may claim a session only when no other run holds it and no older run of
 * the session is queued (the partial index `runs_queued`). A child run
 * belongs to its parent's hold: it neither claims nor frees the session.
 */
import { sessionBusyError } from '../../src/errors.js'
import { isTerminalStatus, type RunStatus } from '../../src/store.js'
import type { SqliteStatement } from './database-types.js'
import type { Statements } from './statements.js'

/**
 * The oldest queued top-level run of a session older than a run (a queued
 * child belongs to its parent's hold, and blocks no one); parameters: the
 * session, then the run.
 */
export const olderQueuedSql =
  "SELECT r.id FROM runs r INDEXED BY runs_queued WHERE r.session_id = ? AND r.status = 'queued' AND r.id < ? AND NOT EXISTS (SELECT 1 FROM run_details d WHERE d.run_id = r.id AND d.parent_run_id IS NOT NULL) ORDER BY r.id LIMIT 1"

/** The claim statements of one connection. */
export class SessionClaims {
  readonly #statements: Statements
  readonly #claim: SqliteStatement
  readonly #release: SqliteStatement
  readonly #pass: SqliteStatement
  readonly #holder: SqliteStatement
  readonly #olderQueued: SqliteStatement
  readonly #runSession: SqliteStatement

  constructor(statements: Statements) {
    const database = statements.database
    this.#statements = statements
    // Parameters: the run, its session, its session, the run.
    this.#claim = database.prepare(`UPDATE sessions SET active_run_id = ? WHERE id = ? AND active_run_id IS NULL AND NOT EXISTS (${olderQueuedSql})`)
    this.#release = database.prepare('UPDATE sessions SET active_run_id = NULL WHERE id = ? AND active_run_id = ?')
    // Parameters: the next run, the session, the next run, the session; then the session and the next run (olderQueuedSql).
    this.#pass = database.prepare(
      'UPDATE sessions SET active_run_id = ? WHERE id = ? AND active_run_id IS NULL ' +
        "AND EXISTS (SELECT 1 FROM runs n JOIN run_details d ON d.run_id = n.id WHERE n.id = ? AND n.session_id = ? AND n.status = 'queued' AND d.parent_run_id IS NULL) " +
        `AND NOT EXISTS (${olderQueuedSql})`,
    )
    this.#holder = database.prepare('SELECT active_run_id FROM sessions WHERE id = ?').pluck()
    this.#olderQueued = database.prepare(olderQueuedSql).pluck()
    this.#runSession = database.prepare(
      "SELECT r.session_id, d.parent_run_id FROM runs r JOIN run_details d ON d.run_id = r.id WHERE r.id = ? AND r.status IN ('queued', 'running', 'waiting_for_input')",
    )
  }

  /**
   * Inside a commit's transaction, after the run's patch: claims or frees the
   * session as the new `status` says. A start (`starts`) that already ended
   * within the commit (the runtime merges patches it has not flushed) is
   * checked as a claim and leaves the session free. Throws the session-busy
   * conflict.
   */
  afterStatus(runId: string, sessionId: string, status: RunStatus | undefined, starts = false, passTo?: string): boolean | undefined {
    if (status === 'running' || status === 'waiting_for_input') {
      const blocker = this.#take(runId, sessionId)
      if (blocker !== undefined) throw sessionBusyError(sessionId, runId, blocker)
      return undefined
    }
    // The commit holds the write lock: a look is as good as a claim taken and freed again.
    const blocker = starts ? this.#blocker(runId, sessionId) : undefined
    if (blocker !== undefined) throw sessionBusyError(sessionId, runId, blocker)
    if (status === undefined || !isTerminalStatus(status)) return undefined
    const released = this.#release.run(sessionId, runId).changes === 1
    if (passTo === undefined) return undefined
    // Passed to the next run only as its own claim would take it: queued, top-level, of this session, none older queued.
    return released && this.#pass.run(passTo, sessionId, passTo, sessionId, sessionId, passTo).changes === 1
  }

  /** Claims the session of an unfinished run ahead of its start, in a transaction of its own; false when it may not. */
  claim(runId: string): boolean {
    const found = this.#runSession.get(runId) as { session_id: string; parent_run_id: string | null } | undefined
    if (found === undefined) return false
    if (found.parent_run_id !== null) return true
    const sessionId = found.session_id
    // A look first, without the write lock: a blocked run asks again after every change another process makes.
    if (this.#blocker(runId, sessionId) !== undefined) return false
    const statements = this.#statements
    statements.begin.run()
    try {
      const blocker = this.#take(runId, sessionId)
      statements.commit.run()
      return blocker === undefined
    } catch (error) {
      if (statements.database.inTransaction) statements.rollback.run()
      throw error
    }
  }

  /** Takes the session for the run; returns the run in the way, or undefined when the run holds it now. */
  #take(runId: string, sessionId: string): string | undefined {
    if (this.#claim.run(runId, sessionId, sessionId, runId).changes === 1) return undefined
    return this.#blocker(runId, sessionId)
  }

  #blocker(runId: string, sessionId: string): string | undefined {
    const holder = this.#holder.get(sessionId) as string | null | undefined
    if (holder !== null && holder !== undefined) return holder === runId ? undefined : holder
    return (this.#olderQueued.get(sessionId, runId) as string | undefined) ?? undefined
  }
}
