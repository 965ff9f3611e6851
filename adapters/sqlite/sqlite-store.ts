/**
 * The SQLite Store: sessions, runs and their event logs in one SQLite file,
 * through better-sqlite3. Commits of one tick share a transaction (see
 * `group-commit.ts`); a claim is one transaction of its own (`owners.ts`);
 * every other call is one statement. Several processes may share the file:
 * ownership decides who executes which run, and `watch` tells each when the
 * others wrote.
 */
import { resolve } from 'node:path'
import { StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import type { Commit, ControlRequest, MessageQuery, Owner, Run, RunQuery, Session, SessionPatch, SessionQuery, Store, ThreadMessage } from '../../src/store.js'
import type { MemoryOwner, MemoryPage, MemoryPatch, MemoryQuery, UserMemory } from '../../src/user-memories.js'
import { ChangeWatch } from './change-watch.js'
import { Checkpointer, fallbackCheckpointPages } from './checkpointer.js'
import type { SqliteDatabase, SqliteStatement } from './database-types.js'
import { GroupCommit, type GroupCommitStatistics } from './group-commit.js'
import { databaseName, openDatabase } from './open-database.js'
import { resolveOptions, type ResolvedSqliteStoreOptions, type SqliteStoreOptions } from './options.js'
import { OwnerStatements } from './owners.js'
import { Pruner } from './prune.js'
import {
  eventFromRow,
  messageFromRow,
  messageValues,
  runFromRow,
  sessionFromRow,
  sessionPatchColumns,
  sessionValues,
  type EventRow,
  type MessageRow,
  type RunRow,
  type SessionRow,
} from '../sql/records.js'
import { Statements } from './statements.js'
import { toStorageError } from './storage-errors.js'

interface Connection {
  database: SqliteDatabase
  owned: boolean
  checkpointer: Checkpointer | undefined
  /** The `wal_autocheckpoint` to put back on an adopted connection when the store closes. */
  autoCheckpointPages: number
  statements: Statements
  owners: OwnerStatements
  pruner: Pruner
  group: GroupCommit
}

/** A Store kept in a SQLite database. Create it with {@link sqliteStore}. */
export class SqliteStore implements Store {
  readonly #options: ResolvedSqliteStoreOptions
  readonly #name: string
  #id: string | undefined
  #connection: Connection | undefined
  /** The open in progress, which `open()` and `close()` calls made meanwhile wait for. */
  #opening: Promise<void> | undefined
  readonly #statistics: GroupCommitStatistics = { transactions: 0, commits: 0, rejected: 0, retries: 0 }
  readonly #changes: ChangeWatch

  /** Checks the options; does no I/O (that is `open()`). */
  constructor(options: SqliteStoreOptions) {
    this.#options = resolveOptions(options)
    this.#id = this.#options.id
    this.#name = databaseName(this.#options)
    this.#changes = new ChangeWatch(this.#options.watchIntervalMs, this.#options.logger)
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

  /**
   * Opens the file (or adopts `database`), sets its pragmas and migrates it.
   * Opening a `path` loads better-sqlite3 first: when it is not installed,
   * rejects with `dependency.missing` (`internal.error` when it is installed
   * but cannot load). Every other error is a `StorageError`. After a failure
   * the store stays closed. Calls made while it opens share the one open.
   */
  open(): Promise<void> {
    if (this.#connection !== undefined) return Promise.resolve()
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined
    })
    return this.#opening
  }

  async #open(): Promise<void> {
    const { database, owned, id } = await openDatabase(this.#options)
    let connection: Connection
    let dataVersion: SqliteStatement
    try {
      const autoCheckpointPages = database.pragma('wal_autocheckpoint', { simple: true }) as number
      let checkpointer: Checkpointer | undefined
      if (this.#options.checkpoint === 'background' && !database.memory && database.name !== '') {
        database.pragma(`wal_autocheckpoint = ${fallbackCheckpointPages}`)
        // Resolved now: the worker opens the file later, and the process may have changed directory by then.
        checkpointer = new Checkpointer(resolve(database.name), () => {
          if (database.open) database.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`)
        })
      }
      const statements = new Statements(database)
      const group = new GroupCommit(statements, `Cannot commit to ${this.#name}`, this.#statistics, checkpointer && (() => checkpointer.committed()))
      connection = { database, owned, checkpointer, autoCheckpointPages, statements, owners: new OwnerStatements(statements), pruner: new Pruner(statements), group }
      dataVersion = database.prepare('PRAGMA data_version').pluck()
    } catch (error) {
      if (owned) database.close()
      throw toStorageError(error, `Cannot open ${this.#name}`)
    }
    this.#id = id
    this.#connection = connection
    this.#changes.attach(() => dataVersion.get() as number)
  }

  /** Applies the pending commits, then closes the database if the store opened it (after an open under way). */
  async close(): Promise<void> {
    // Waited for, so that the connection of an open under way does not outlive this close.
    if (this.#opening !== undefined) await this.#opening.catch(() => {})
    const connection = this.#connection
    if (connection === undefined) return
    this.#connection = undefined
    this.#changes.detach()
    try {
      connection.group.flush()
    } finally {
      // The worker's connection closes first, so that closing the last one checkpoints and removes the WAL.
      await connection.checkpointer?.close()
      const { database } = connection
      if (connection.owned) database.close()
      else if (connection.checkpointer !== undefined && database.open) database.pragma(`wal_autocheckpoint = ${connection.autoCheckpointPages}`)
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
      return (statement.all(...parameters) as SessionRow[]).map((row) => sessionFromRow(row))
    })
  }

  /** Sets the patch's fields; returns the updated session, or undefined when there is none. */
  async updateSession(id: string, patch: SessionPatch): Promise<Session | undefined> {
    const { columns, values } = sessionPatchColumns(patch)
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
      return (statement.all(...parameters) as RunRow[]).map((row) => runFromRow(row))
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

  /** Adds a message to its session; a missing session or a duplicate id fails with `storage.failed`. */
  async insertMessage(message: ThreadMessage): Promise<void> {
    this.#write('Cannot insert a message into', (statements) => {
      try {
        statements.insertMessage.run(...messageValues(message))
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StorageError('storage.failed', `Message ${message.id} already exists`, { cause: error })
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StorageError('storage.failed', `Session ${message.sessionId} does not exist`, { cause: error })
        throw error
      }
    })
  }

  /** A fresh copy of the message, or undefined. */
  async getMessage(id: string): Promise<ThreadMessage | undefined> {
    return this.#read('Cannot read a message from', (statements) => {
      const row = statements.getMessage.get(id) as MessageRow | undefined
      return row === undefined ? undefined : messageFromRow(row)
    })
  }

  /** A page of a session's messages, newest first unless `order` is 'asc'. */
  async listMessages(query: MessageQuery): Promise<ThreadMessage[]> {
    return this.#read('Cannot list the messages of', (statements) => {
      const { statement, parameters } = statements.listMessages(query)
      return (statement.all(...parameters) as MessageRow[]).map((row) => messageFromRow(row))
    })
  }

  /** Adds a user memory; a duplicate id fails with `storage.failed`. */
  async insertMemory(memory: UserMemory): Promise<void> {
    this.#write('Cannot insert a memory into', (statements) => statements.memories.insert(memory))
  }

  /** The user's memory with this id, or undefined. */
  async getMemory(owner: MemoryOwner, id: string): Promise<UserMemory | undefined> {
    return this.#read('Cannot read a memory from', (statements) => statements.memories.get(owner, id))
  }

  /** A page of the user's memories and how many match. */
  async listMemories(query: MemoryQuery): Promise<MemoryPage> {
    return this.#read('Cannot list the memories of', (statements) => statements.memories.list(query))
  }

  /** Changes the user's memory; undefined when the user has none with this id. */
  async updateMemory(owner: MemoryOwner, id: string, patch: MemoryPatch): Promise<UserMemory | undefined> {
    return this.#write('Cannot update a memory in', (statements) => statements.memories.update(owner, id, patch))
  }

  /** Deletes those of the ids that are the user's memories; returns how many. */
  async deleteMemories(owner: MemoryOwner, ids: readonly string[]): Promise<number> {
    return this.#write('Cannot delete memories from', (statements) => statements.memories.delete(owner, ids))
  }

  /** The topics of the user's memories, sorted. */
  async memoryTopics(owner: MemoryOwner): Promise<string[]> {
    return this.#read('Cannot read the memory topics of', (statements) => statements.memories.topics(owner))
  }

  /** Records an executing process (replacing the owner of the same id). */
  async registerOwner(owner: Owner): Promise<void> {
    this.#write('Cannot register an owner in', (_, { owners }) => owners.register(owner))
  }

  /** Sets an owner's `heartbeatAt`; false when its row is gone (another process removed it). */
  async heartbeat(ownerId: string, at: string): Promise<boolean> {
    return this.#write('Cannot beat the heart of an owner in', (_, { owners }) => owners.heartbeat(ownerId, at))
  }

  /** Every owner, oldest first. */
  async listOwners(): Promise<Owner[]> {
    return this.#read('Cannot list the owners of', (_, { owners }) => owners.list())
  }

  /** Removes an owner; its runs keep their `owner_id`, orphaned, until claimed. */
  async removeOwner(ownerId: string): Promise<void> {
    this.#write('Cannot remove an owner from', (_, { owners }) => owners.remove(ownerId))
  }

  /**
   * In one transaction, gives `ownerId` every unfinished run that has no
   * owner, whose owner has no row, or whose owner is in `fromOwners`, and
   * removes the `fromOwners` rows. Returns the claimed run ids, ascending.
   */
  async claimRuns(ownerId: string, fromOwners: readonly string[]): Promise<string[]> {
    return this.#write('Cannot claim runs in', (_, { owners }) => owners.claim(ownerId, fromOwners))
  }

  /** The owner of a run, or null. */
  async getRunOwner(runId: string): Promise<string | null> {
    return this.#read('Cannot read the owner of a run from', (_, { owners }) => owners.runOwner(runId))
  }

  /** Makes an unfinished run the holder of its session ahead of its start; false when another run holds it or an older one is queued. */
  async claimSession(runId: string): Promise<boolean> {
    return this.#write('Cannot claim a session in', (statements) => statements.claims.claim(runId))
  }

  /** Records a pending control request; false when its run does not exist or has ended. */
  async insertControl(request: ControlRequest): Promise<boolean> {
    return this.#write('Cannot record a control request in', (statements) => statements.controls.insert(request))
  }

  /** A control request with its current status, or undefined. */
  async getControl(id: string): Promise<ControlRequest | undefined> {
    return this.#read('Cannot read a control request from', (statements) => statements.controls.get(id))
  }

  /** The pending and accepted control requests of the runs `ownerId` owns, oldest first. */
  async pendingControls(ownerId: string): Promise<ControlRequest[]> {
    return this.#read('Cannot read the control requests of', (statements) => statements.controls.open(ownerId))
  }

  /** Moves a pending control request to `accepted` or `withdrawn`; false when it is no longer pending. */
  async markControl(id: string, status: 'accepted' | 'withdrawn', at: string): Promise<boolean> {
    return this.#write('Cannot mark a control request in', (statements) => statements.controls.mark(id, status, at))
  }

  /** Deletes at most `limit` finished runs that ended before `finishedBefore`, with their events. Returns how many. */
  async pruneRuns(finishedBefore: string, limit: number): Promise<number> {
    return this.#write('Cannot prune the runs of', (_, { pruner }) => pruner.prune(finishedBefore, limit))
  }

  /**
   * Calls `listener` when another connection (this process or another) has
   * committed to the file, checked every `watchIntervalMs` while anything
   * watches. This store's own commits never call it. Returns the function
   * that stops watching.
   */
  watch(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`Expected \`listener\` to be a function, got \`${typeof listener}\``)
    return this.#changes.add(listener)
  }

  #sessionOf(statements: Statements, id: string): Session | undefined {
    const row = statements.getSession.get(id) as SessionRow | undefined
    return row === undefined ? undefined : sessionFromRow(row)
  }

  #read<T>(action: string, work: (statements: Statements, connection: Connection) => T): T {
    const connection = this.#connection
    if (connection === undefined) throw this.#notOpen()
    try {
      return work(connection.statements, connection)
    } catch (error) {
      throw toStorageError(error, `${action} ${this.#name}`)
    }
  }

  /** A write outside `commit`: pending commits go first, so writes apply in call order. */
  #write<T>(action: string, work: (statements: Statements, connection: Connection) => T): T {
    const connection = this.#connection
    if (connection === undefined) throw this.#notOpen()
    if (connection.group.pending) connection.group.flush()
    try {
      return work(connection.statements, connection)
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
