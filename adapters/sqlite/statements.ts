/**
 * Every SQL statement of the store, prepared once per connection. Statements
 * whose shape depends on the call (a run patch's fields, a list's filters)
 * are prepared on first use and cached by shape; there are few shapes.
 */
import type { MessageQuery, RunQuery, SessionQuery } from '../../src/store.js'
import { ControlStatements } from './controls.js'
import { MemoryStatements } from './memories.js'
import type { SqliteDatabase, SqliteStatement } from './database-types.js'
import { SessionClaims } from './session-claims.js'
import { messageColumns, runDetailColumns, runPatchSql, runSelectList, runsColumns, sessionColumns } from '../sql/records.js'

const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ')

/**
 * Events written by one multi-row INSERT. Measured with raw better-sqlite3 (31 events per run, ten
 * runs per transaction): one row per statement took 4.3 µs per event, 4 or 8 rows 3.0 µs, 16 rows 3.2.
 */
export const eventsPerInsert = 8

/** The UPDATEs of one shape of run patch, per table it touches. */
export interface RunPatchStatements {
  runs: SqliteStatement | undefined
  details: SqliteStatement | undefined
}

/** The prepared statements of one connection. */
export class Statements {
  readonly database: SqliteDatabase

  readonly begin: SqliteStatement
  readonly commit: SqliteStatement
  readonly rollback: SqliteStatement
  readonly savepoint: SqliteStatement
  readonly release: SqliteStatement
  readonly rollbackToSavepoint: SqliteStatement

  readonly insertSession: SqliteStatement
  readonly getSession: SqliteStatement
  readonly updateSessionState: SqliteStatement
  readonly updateContextSummary: SqliteStatement
  readonly deleteSession: SqliteStatement

  /** Inserts a `runs` row: its columns, then `owner_id` and `ended_at`. */
  readonly insertRun: SqliteStatement
  readonly insertRunDetails: SqliteStatement
  readonly getRun: SqliteStatement
  /** Advances `last_seq` only from the expected value; returns the run's session id, or undefined. */
  readonly advanceSeq: SqliteStatement
  /** `advanceSeq` that also requires the run's owner to be the given one (the fence of `Commit.ownerId`). */
  readonly advanceSeqFenced: SqliteStatement
  /** A run's `last_seq`, or undefined when there is no such run. */
  readonly getLastSeq: SqliteStatement
  /** A run's `{ last_seq, owner_id }`, or undefined when there is no such run. */
  readonly getSeqAndOwner: SqliteStatement

  readonly insertEvent: SqliteStatement
  /** Inserts {@link eventsPerInsert} events at once: one call into SQLite instead of eight. */
  readonly insertEvents: SqliteStatement
  readonly readEvents: SqliteStatement

  readonly insertMessage: SqliteStatement
  readonly getMessage: SqliteStatement
  /** Gives an unanswered message of the run's session to the run: (runId, messageId, runId); changes 0 when it cannot. */
  readonly answerMessage: SqliteStatement
  /** A message's `{ session_id, run_id }`, or undefined. */
  readonly getMessageOwner: SqliteStatement
  /** A run's session id, or undefined. */
  readonly getRunSession: SqliteStatement
  /** The id of a parent's child for a tool call (parameters: the parent, the tool call id), or undefined. */
  readonly getChild: SqliteStatement
  readonly getParentRunId: SqliteStatement

  /** The session claim, inside commits and ahead of a start. */
  readonly claims: SessionClaims
  /** The control requests. */
  readonly controls: ControlStatements
  /** The user memories. */
  readonly memories: MemoryStatements

  readonly #runPatches = new Map<string, RunPatchStatements>()
  /** Lists and session updates, by SQL text. */
  readonly #byShape = new Map<string, SqliteStatement>()

  constructor(database: SqliteDatabase) {
    this.database = database
    this.begin = database.prepare('BEGIN IMMEDIATE')
    this.commit = database.prepare('COMMIT')
    this.rollback = database.prepare('ROLLBACK')
    this.savepoint = database.prepare('SAVEPOINT hearth_commit')
    this.release = database.prepare('RELEASE hearth_commit')
    this.rollbackToSavepoint = database.prepare('ROLLBACK TO hearth_commit')

    this.insertSession = database.prepare(`INSERT INTO sessions (${sessionColumns.join(', ')}) VALUES (${placeholders(sessionColumns.length)})`)
    this.getSession = database.prepare('SELECT * FROM sessions WHERE id = ?')
    this.updateSessionState = database.prepare('UPDATE sessions SET state = ?, updated_at = ? WHERE id = ?')
    this.updateContextSummary = database.prepare('UPDATE sessions SET context_summary = ? WHERE id = ?')
    this.deleteSession = database.prepare('DELETE FROM sessions WHERE id = ?')

    this.insertRun = database.prepare(`INSERT INTO runs (${runsColumns.join(', ')}, owner_id, ended_at) VALUES (${placeholders(runsColumns.length + 2)})`)
    this.insertRunDetails = database.prepare(
      `INSERT INTO run_details (run_id, ${runDetailColumns.join(', ')}) VALUES (${placeholders(runDetailColumns.length + 1)})`,
    )
    this.getRun = database.prepare(`SELECT ${runSelectList} FROM runs r JOIN run_details d ON d.run_id = r.id WHERE r.id = ?`)
    this.advanceSeq = database.prepare('UPDATE runs SET last_seq = ? WHERE id = ? AND last_seq = ? RETURNING session_id').pluck()
    this.advanceSeqFenced = database.prepare('UPDATE runs SET last_seq = ? WHERE id = ? AND last_seq = ? AND owner_id = ? RETURNING session_id').pluck()
    this.getLastSeq = database.prepare('SELECT last_seq FROM runs WHERE id = ?').pluck()
    this.getSeqAndOwner = database.prepare('SELECT last_seq, owner_id FROM runs WHERE id = ?')

    this.insertEvent = database.prepare('INSERT INTO events (run_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)')
    this.insertEvents = database.prepare(
      `INSERT INTO events (run_id, seq, type, data, created_at) VALUES ${Array.from({ length: eventsPerInsert }, () => '(?, ?, ?, ?, ?)').join(', ')}`,
    )
    this.readEvents = database.prepare(
      'SELECT e.seq, e.type, e.data, e.created_at, r.session_id FROM events e JOIN runs r ON r.id = e.run_id WHERE e.run_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?',
    )

    this.insertMessage = database.prepare(`INSERT INTO messages (${messageColumns.join(', ')}) VALUES (${placeholders(messageColumns.length)})`)
    this.getMessage = database.prepare('SELECT * FROM messages WHERE id = ?')
    this.answerMessage = database.prepare(
      'UPDATE messages SET run_id = ? WHERE id = ? AND run_id IS NULL AND session_id = (SELECT session_id FROM runs WHERE id = ?)',
    )
    this.getMessageOwner = database.prepare('SELECT session_id, run_id FROM messages WHERE id = ?')
    this.getRunSession = database.prepare('SELECT session_id FROM runs WHERE id = ?').pluck()
    this.getChild = database.prepare('SELECT run_id FROM run_details WHERE parent_run_id = ? AND parent_tool_call_id = ?').pluck()
    this.getParentRunId = database.prepare('SELECT parent_run_id FROM run_details WHERE run_id = ?').pluck()
    this.claims = new SessionClaims(this)
    this.controls = new ControlStatements(this)
    this.memories = new MemoryStatements(database)
  }

  /** The UPDATEs of a run patch with the fields `key` (see `runPatchColumns`). */
  runPatch(key: string): RunPatchStatements {
    let statements = this.#runPatches.get(key)
    if (statements === undefined) {
      const sql = runPatchSql(key)
      statements = {
        runs: sql.runs === undefined ? undefined : this.database.prepare(sql.runs),
        details: sql.details === undefined ? undefined : this.database.prepare(sql.details),
      }
      this.#runPatches.set(key, statements)
    }
    return statements
  }

  /** The SELECT of a run list and its parameters. */
  listRuns(query: RunQuery): { statement: SqliteStatement; parameters: unknown[] } {
    const ascending = query.order === 'asc'
    const statuses = query.statuses
    const where: string[] = []
    const parameters: unknown[] = []
    if (query.orgId !== undefined) {
      where.push('r.org_id = ?')
      parameters.push(query.orgId)
    }
    if (query.sessionId !== undefined) {
      where.push('r.session_id = ?')
      parameters.push(query.sessionId)
    }
    if (query.parentRunId !== undefined) {
      where.push('d.parent_run_id = ?')
      parameters.push(query.parentRunId)
    }
    if (query.topLevel === true) where.push('d.parent_run_id IS NULL')
    if (statuses !== undefined) {
      where.push(statuses.length === 1 ? 'r.status = ?' : `r.status IN (${placeholders(statuses.length)})`)
      parameters.push(...statuses)
    }
    if (query.before !== undefined) {
      where.push(ascending ? 'r.id > ?' : 'r.id < ?')
      parameters.push(query.before)
    }
    parameters.push(query.limit)
    const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`
    const sql = `SELECT ${runSelectList} FROM runs r JOIN run_details d ON d.run_id = r.id${filter} ORDER BY r.id ${ascending ? 'ASC' : 'DESC'} LIMIT ?`
    return { statement: this.#cached(sql), parameters }
  }

  /** The SELECT of a message list and its parameters. */
  listMessages(query: MessageQuery): { statement: SqliteStatement; parameters: unknown[] } {
    const ascending = query.order === 'asc'
    // `run_id IS NULL` written out, so that SQLite reads the partial index of unanswered messages.
    let sql = `SELECT * FROM messages WHERE session_id = ?${query.unanswered === true ? ' AND run_id IS NULL' : ''}`
    const parameters: unknown[] = [query.sessionId]
    if (query.before !== undefined) {
      sql += ascending ? ' AND id > ?' : ' AND id < ?'
      parameters.push(query.before)
    }
    parameters.push(query.limit)
    return { statement: this.#cached(`${sql} ORDER BY id ${ascending ? 'ASC' : 'DESC'} LIMIT ?`), parameters }
  }

  /** The SELECT of a session list and its parameters. */
  listSessions(query: SessionQuery): { statement: SqliteStatement; parameters: unknown[] } {
    let sql = 'SELECT * FROM sessions WHERE org_id = ?'
    const parameters: unknown[] = [query.orgId]
    if (query.userId !== undefined) {
      sql += ' AND user_id = ?'
      parameters.push(query.userId)
    }
    if (query.before !== undefined) {
      sql += ' AND id < ?'
      parameters.push(query.before)
    }
    parameters.push(query.limit)
    return { statement: this.#cached(`${sql} ORDER BY id DESC LIMIT ?`), parameters }
  }

  /** The UPDATE of a session patch with the given columns. */
  updateSession(columns: readonly string[]): SqliteStatement {
    return this.#cached(`UPDATE sessions SET ${columns.map((column) => `${column} = ?`).join(', ')} WHERE id = ? RETURNING *`)
  }

  #cached(sql: string): SqliteStatement {
    let statement = this.#byShape.get(sql)
    if (statement === undefined) {
      statement = this.database.prepare(sql)
      this.#byShape.set(sql, statement)
    }
    return statement
  }
}
