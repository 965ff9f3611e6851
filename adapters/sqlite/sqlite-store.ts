/**
 * The SQLite Store: sessions, runs and their event logs in one SQLite file,
 * through better-sqlite3. Commits of one tick share a transaction (see
 * `group-commit.ts`); every other call is one statement.
 */
import type Database from 'better-sqlite3'
import { StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import type { Commit, Run, RunQuery, Session, SessionPatch, SessionQuery, Store } from '../../src/store.js'
import { GroupCommit, type GroupCommitStatistics } from './group-commit.js'
import { databaseName, openDatabase } from './open-database.js'
import { resolveOptions, type ResolvedSqliteStoreOptions, type SqliteStoreOptions } from './options.js'
import { eventFromRow, runFromRow, sessionFromRow, sessionValues, type EventRow, type RunRow, type SessionRow } from './records.js'
import { Statements } from './statements.js'
import { toStorageError } from './storage-errors.js'

interface Connection {
  database: Database.Database
  owned: boolean
  statements: Statements
  group: GroupCommit
}

/** How a session patch's fields are kept: column, and whether the value is JSON text. */
const sessionPatchFields: Readonly<Record<string, readonly [string, boolean]>> = {
  title: ['title', false],
  agent: ['agent', false],
  metadata: ['metadata', true],
  state: ['state', true],
  updatedAt: ['updated_at', false],
}

/** A Store kept in a SQLite database. Create it with {@link sqliteStore}. */
export class SqliteStore implements Store {
  readonly #options: ResolvedSqliteStoreOptions
  readonly #name: string
  #id: string | undefined
  #connection: Connection | undefined
  readonly #statistics: GroupCommitStatistics = { transactions: 0, commits: 0, rejected: 0 }

  /** Checks the options; does no I/O (that is `open()`). */
  constructor(options: SqliteStoreOptions) {
    this.#options = resolveOptions(options)
    this.#id = this.#options.id
    this.#name = databaseName(this.#options)
  }

  /**
   * The store's id (`db_id` of the Agno view): the `id` option, else the id
   * kept in the file, which is known once `open()` has resolved.
   */
  get id(): string {
    if (this.#id === undefined) {
      throw new StorageError('storage.failed', `The id of ${this.#name} is kept in the file: read it after open() resolves, or pass \`id\``)
    }
    return this.#id
  }

  /** Counters of the group commit since the store was made (across reopens). */
  get statistics(): Readonly<GroupCommitStatistics> {
    return { ...this.#statistics }
  }

  /** Opens the file (or adopts `database`), sets its pragmas and migrates it. Errors are `StorageError`s. */
  async open(): Promise<void> {
    if (this.#connection !== undefined) return
    const { database, owned, id } = openDatabase(this.#options)
    let statements: Statements
    try {
      statements = new Statements(database)
    } catch (error) {
      if (owned) database.close()
      throw toStorageError(error, `Cannot open ${this.#name}`)
    }
    this.#id = id
    this.#connection = { database, owned, statements, group: new GroupCommit(statements, `Cannot commit to ${this.#name}`, this.#statistics) }
  }

  /** Applies the pending commits, then closes the database if the store opened it. */
  async close(): Promise<void> {
    const connection = this.#connection
    if (connection === undefined) return
    this.#connection = undefined
    try {
      connection.group.flush()
    } finally {
      if (connection.owned) connection.database.close()
    }
  }

  /** Inserts a session; a duplicate id fails with `storage.failed`. */
  async insertSession(session: Session): Promise<void> {
    this.#write('Cannot insert a session into', (statements) => {
      try {
        statements.insertSession.run(...sessionValues(session))
      } catch (error) {
        if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new StorageError('storage.failed', `Session ${session.id} already exists`, { cause: error })
        }
        throw error
      }
    })
  }

  /** A fresh copy of the session, or undefined. */
  async getSession(id: string): Promise<Session | undefined> {
    return this.#read('Cannot read a session from', (statements) => this.#sessionOf(statements, id))
  }

  /** A page of an org's sessions, newest first (`id < before`). */
  async listSessions(query: SessionQuery): Promise<Session[]> {
    return this.#read('Cannot list the sessions of', (statements) => {
      const { statement, parameters } = statements.listSessions(query)
      return (statement.all(...parameters) as SessionRow[]).map(sessionFromRow)
    })
  }

  /** Sets the patch's fields; returns the updated session, or undefined when there is none. */
  async updateSession(id: string, patch: SessionPatch): Promise<Session | undefined> {
    const columns: string[] = []
    const values: unknown[] = []
    for (const field in patch) {
      const value = (patch as Record<string, unknown>)[field]
      if (value === undefined) continue
      const kept = sessionPatchFields[field]
      if (kept === undefined || !Object.hasOwn(sessionPatchFields, field)) {
        throw new StorageError('storage.failed', `A session patch cannot set \`${field}\``)
      }
      columns.push(kept[0])
      values.push(kept[1] ? JSON.stringify(value) : value)
    }
    return this.#write('Cannot update a session in', (statements) => {
      if (columns.length === 0) return this.#sessionOf(statements, id)
      const row = statements.updateSession(columns).get(...values, id) as SessionRow | undefined
      return row === undefined ? undefined : sessionFromRow(row)
    })
  }

  /** Deletes a session with its runs and their events (by cascade). False when there was none. */
  async deleteSession(id: string): Promise<boolean> {
    return this.#write('Cannot delete a session from', (statements) => statements.deleteSession.run(id).changes > 0)
  }

  /** A fresh copy of the run, or undefined. */
  async getRun(id: string): Promise<Run | undefined> {
    return this.#read('Cannot read a run from', (statements) => {
      const row = statements.getRun.get(id) as RunRow | undefined
      return row === undefined ? undefined : runFromRow(row)
    })
  }

  /** A page of runs by org, session and status, newest first unless `order` is 'asc'. */
  async listRuns(query: RunQuery): Promise<Run[]> {
    return this.#read('Cannot list the runs of', (statements) => {
      const { statement, parameters } = statements.listRuns(query)
      return (statement.all(...parameters) as RunRow[]).map(runFromRow)
    })
  }

  /**
   * Applies one atomic write. Commits asked for in the same tick share one
   * transaction, each in its own savepoint; the promise resolves once that
   * transaction has committed.
   */
  commit(commit: Commit): Promise<void> {
    const connection = this.#connection
    if (connection === undefined) return Promise.reject(this.#notOpen())
    return connection.group.enqueue(commit)
  }

  /** A run's events with `seq > afterSeq`, in seq order, at most `limit`. */
  async readEvents(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    return this.#read('Cannot read the events of', (statements) => {
      const rows = statements.readEvents.all(runId, afterSeq, limit) as EventRow[]
      const events: RunEvent[] = new Array(rows.length)
      for (let index = 0; index < rows.length; index++) events[index] = eventFromRow(rows[index] as EventRow, runId)
      return events
    })
  }

  #sessionOf(statements: Statements, id: string): Session | undefined {
    const row = statements.getSession.get(id) as SessionRow | undefined
    return row === undefined ? undefined : sessionFromRow(row)
  }

  #read<T>(action: string, work: (statements: Statements) => T): T {
    const connection = this.#connection
    if (connection === undefined) throw this.#notOpen()
    try {
      return work(connection.statements)
    } catch (error) {
      throw toStorageError(error, `${action} ${this.#name}`)
    }
  }

  /** A write outside `commit`: pending commits go first, so writes apply in call order. */
  #write<T>(action: string, work: (statements: Statements) => T): T {
    const connection = this.#connection
    if (connection === undefined) throw this.#notOpen()
    if (connection.group.pending) connection.group.flush()
    try {
      return work(connection.statements)
    } catch (error) {
      throw toStorageError(error, `${action} ${this.#name}`)
    }
  }

  #notOpen(): StorageError {
    return new StorageError('storage.failed', `The store on ${this.#name} is not open: call open() first (or it was closed)`)
  }
}

/** Creates a Store kept in SQLite; call `open()` (or let `Runtime.open` do it) before use. */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options)
}
