/**
 * The PostgreSQL Store: sessions, runs and their event logs in one database
 * (in a schema of their own), through `pg`, shared by any number of runtime
 * processes on any number of hosts. Commits of one process go out in
 * batches, one transaction each (see `group-commit.ts`); a claim is one
 * transaction that skips rows other transactions hold; every other call is
 * one statement. Ownership decides who executes which run, its owner fence
 * rides on every write, and `watch` tells each process, through LISTEN and
 * NOTIFY, when the others wrote.
 */
import { StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import { createId } from '../../src/ids.js'
import { loadPeer } from '../../src/optional-peer.js'
import type { Commit, ControlRequest, MessageQuery, Owner, Run, RunQuery, Session, SessionPatch, SessionQuery, Store, ThreadMessage } from '../../src/store.js'
import type { MemoryOwner, MemoryPage, MemoryPatch, MemoryQuery, UserMemory } from '../../src/user-memories.js'
import {
  eventFromRow,
  messageFromRow,
  messageValues,
  ownerFromRow,
  runFromRow,
  sessionFromRow,
  sessionPatchColumns,
  sessionValues,
  type EventRow,
  type MessageRow,
  type OwnerRow,
  type RunRow,
  type SessionRow,
} from '../sql/records.js'
import { PostgresGroupCommit, type PostgresGroupCommitStatistics } from './group-commit.js'
import { openPool, releasePool } from './open-pool.js'
import { clientListenConnection, pooledListenConnection } from './listen-connection.js'
import { ChangeListener, type ListenConnection } from './notifications.js'
import { resolveOptions, type PostgresConnection, type PostgresStoreOptions, type ResolvedPostgresStoreOptions } from './options.js'
import type { PgModule, PgPool } from './pg-types.js'
import { inTransaction } from './checkout.js'
import * as controls from './controls.js'
import * as memories from './memories.js'
import { Statements } from './statements.js'
import { pgCodeOf, toStorageError } from './storage-errors.js'

/** What the open store holds. */
interface Connection {
  pool: PgPool
  owned: boolean
  group: PostgresGroupCommit
  onPoolError: (error: Error) => void
}

/** `pg`, imported on first use; rejects with `dependency.missing` when it is not installed. */
async function loadDriver(): Promise<PgModule> {
  const driver = await loadPeer<{ default: PgModule }>('pg', { subpath: 'hearth-runtime/postgres', install: 'pg@8' })
  return driver.default
}

/** A Store kept in PostgreSQL. Create it with {@link postgresStore}. */
export class PostgresStore implements Store {
  /** Owners may run on other hosts, or in containers whose pids mean nothing here: an owner is dead only when its lease ran out. */
  readonly pidChecks = false
  readonly #options: ResolvedPostgresStoreOptions
  readonly #sql: Statements
  readonly #name: string
  /** Names this store object in its notifications, so that it skips its own. */
  readonly #instanceId = createId('pgs')
  readonly #statistics: PostgresGroupCommitStatistics = { transactions: 0, commits: 0, rejected: 0, retries: 0 }
  readonly #changes: ChangeListener
  #id: string | undefined
  #connection: Connection | undefined
  #opening: Promise<void> | undefined
  #driver: PgModule | undefined

  /** Checks the options; does no I/O (that is `open()`). */
  constructor(connection: PostgresConnection, options: PostgresStoreOptions = {}) {
    this.#options = resolveOptions(connection, options)
    this.#id = this.#options.id
    this.#sql = new Statements(this.#options.schema, this.#options.idleInTransactionTimeoutMs)
    this.#name = `the PostgreSQL schema ${this.#options.schema}`
    this.#changes = new ChangeListener({
      connect: () => this.#listenConnection(),
      channel: this.#options.channel,
      instanceId: this.#instanceId,
      logger: this.#options.logger,
      maxDelayMs: this.#options.maxReconnectDelayMs,
    })
  }

  /**
   * The store's id (`db_id` of the Agno view): the `id` option, else the id
   * kept in the schema's `meta` table (the same for every replica), known
   * once `open()` has resolved.
   */
  get id(): string {
    if (this.#id === undefined) {
      throw new StorageError('storage.failed', `The id of ${this.#name} is kept in the database: read it after open() resolves, or pass \`id\``)
    }
    return this.#id
  }

  /** Counters of the group commit since the store was made (across reopens). */
  get statistics(): Readonly<PostgresGroupCommitStatistics> {
    return { ...this.#statistics }
  }

  /** The channel the store announces its commits on and listens to. */
  get channel(): string {
    return this.#options.channel
  }

  /** True while the store's listening connection is up (for tests and health checks). */
  get listening(): boolean {
    return this.#changes.listening
  }

  /**
   * Connects (making a pool from `connectionString`, which loads `pg` first:
   * `dependency.missing` when it is not installed), creates or migrates the
   * schema, and reads the store id. Every other error is a `StorageError`
   * (`storage.busy` when the server cannot be reached). After a failure the
   * store stays closed. Calls made while it opens share the one open.
   */
  open(): Promise<void> {
    if (this.#connection !== undefined) return Promise.resolve()
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined
    })
    return this.#opening
  }

  async #open(): Promise<void> {
    const options = this.#options
    if (options.connectionString !== undefined || options.listenConnectionString !== undefined) this.#driver = await loadDriver()
    const { pool, owned, id, onPoolError } = await openPool(options, this.#driver, this.#sql, this.#name)
    this.#id ??= id
    const group = new PostgresGroupCommit(pool, this.#sql, {
      action: `Cannot commit to ${this.#name}`,
      channel: options.channel,
      instanceId: this.#instanceId,
      statistics: this.#statistics,
    })
    this.#connection = { pool, owned, group, onPoolError }
    this.#changes.start()
    await this.#changes.ready()
  }

  /** Applies the pending commits, stops listening, then ends the pool if the store made it. */
  async close(): Promise<void> {
    if (this.#opening !== undefined) await this.#opening.catch(() => {})
    const connection = this.#connection
    if (connection === undefined) return
    this.#connection = undefined
    try {
      await connection.group.idle()
    } finally {
      await this.#changes.stop()
      await releasePool(connection.pool, connection.owned, connection.onPoolError)
    }
  }

  /** Inserts a session; a duplicate id fails with `storage.failed`. */
  async insertSession(session: Session): Promise<void> {
    await this.#write('Cannot insert a session into', async (pool) => {
      try {
        await pool.query(this.#sql.insertSession, sessionValues(session, true))
      } catch (error) {
        if (pgCodeOf(error) === '23505') throw new StorageError('storage.failed', `Session ${session.id} already exists`, { cause: error })
        throw error
      }
    })
  }

  /** A fresh copy of the session, or undefined. */
  async getSession(id: string): Promise<Session | undefined> {
    return this.#read('Cannot read a session from', async (pool) => {
      const row = (await pool.query<SessionRow>(this.#sql.getSession, [id])).rows[0]
      return row === undefined ? undefined : sessionFromRow(row, true)
    })
  }

  /** A page of an org's sessions, newest first (`id < before`). */
  async listSessions(query: SessionQuery): Promise<Session[]> {
    return this.#read('Cannot list the sessions of', async (pool) => {
      const { text, values } = this.#sql.listSessions(query)
      return (await pool.query<SessionRow>(text, values)).rows.map((row) => sessionFromRow(row, true))
    })
  }

  /** Sets the patch's fields; returns the updated session, or undefined when there is none. */
  async updateSession(id: string, patch: SessionPatch): Promise<Session | undefined> {
    const { columns, values } = sessionPatchColumns(patch, true)
    if (columns.length === 0) return this.getSession(id)
    return this.#write('Cannot update a session in', async (pool) => {
      const row = (await pool.query<SessionRow>(this.#sql.updateSession(columns), [...values, id])).rows[0]
      return row === undefined ? undefined : sessionFromRow(row, true)
    })
  }

  /** Deletes a session with its runs, their events and messages. False when there was none. */
  async deleteSession(id: string): Promise<boolean> {
    return this.#write('Cannot delete a session from', async (pool) => ((await pool.query(this.#sql.deleteSession, [id])).rowCount ?? 0) > 0)
  }

  /** A fresh copy of the run, or undefined. */
  async getRun(id: string): Promise<Run | undefined> {
    return this.#read('Cannot read a run from', async (pool) => {
      const row = (await pool.query<RunRow>(this.#sql.getRun, [id])).rows[0]
      return row === undefined ? undefined : runFromRow(row, true)
    })
  }

  /** A page of runs by org, session and status, newest first unless `order` is 'asc'. */
  async listRuns(query: RunQuery): Promise<Run[]> {
    return this.#read('Cannot list the runs of', async (pool) => {
      const { text, values } = this.#sql.listRuns(query)
      return (await pool.query<RunRow>(text, values)).rows.map((row) => runFromRow(row, true))
    })
  }

  /**
   * Applies one atomic write. Commits asked for while the previous
   * transaction was under way share the next one; the promise resolves once
   * that transaction has committed.
   */
  commit(commit: Commit): Promise<void> {
    const connection = this.#connection
    if (connection === undefined) return Promise.reject(this.#notOpen())
    return connection.group.enqueue(commit)
  }

  /** A run's events with `seq > afterSeq`, in seq order, at most `limit`. */
  async readEvents(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    return this.#read('Cannot read the events of', async (pool) => {
      const rows = (await pool.query<EventRow>(this.#sql.readEvents, [runId, afterSeq, Math.min(limit, Number.MAX_SAFE_INTEGER)])).rows
      return rows.map((row) => eventFromRow(row, runId))
    })
  }

  /** Adds a message to its session; a missing session or a duplicate id fails with `storage.failed`. */
  async insertMessage(message: ThreadMessage): Promise<void> {
    await this.#write('Cannot insert a message into', async (pool) => {
      try {
        await pool.query(this.#sql.insertMessage, messageValues(message, true))
      } catch (error) {
        const code = pgCodeOf(error)
        if (code === '23505') throw new StorageError('storage.failed', `Message ${message.id} already exists`, { cause: error })
        if (code === '23503') throw new StorageError('storage.failed', `Session ${message.sessionId} does not exist`, { cause: error })
        throw error
      }
    })
  }

  /** A fresh copy of the message, or undefined. */
  async getMessage(id: string): Promise<ThreadMessage | undefined> {
    return this.#read('Cannot read a message from', async (pool) => {
      const row = (await pool.query<MessageRow>(this.#sql.getMessage, [id])).rows[0]
      return row === undefined ? undefined : messageFromRow(row, true)
    })
  }

  /** A page of a session's messages, newest first unless `order` is 'asc'. */
  async listMessages(query: MessageQuery): Promise<ThreadMessage[]> {
    return this.#read('Cannot list the messages of', async (pool) => {
      const { text, values } = this.#sql.listMessages(query)
      return (await pool.query<MessageRow>(text, values)).rows.map((row) => messageFromRow(row, true))
    })
  }

  /** Records an executing process (replacing the owner of the same id). */
  async registerOwner(owner: Owner): Promise<void> {
    await this.#write('Cannot register an owner in', (pool) =>
      pool.query(this.#sql.registerOwner, [owner.id, owner.pid, owner.host, owner.startedAt, owner.heartbeatAt]),
    )
  }

  /** Sets an owner's `heartbeatAt`; false when its row is gone (another process removed it). */
  async heartbeat(ownerId: string, at: string): Promise<boolean> {
    // Not announced: a beat changes nothing another process acts on.
    return this.#write('Cannot beat the heart of an owner in', async (pool) => ((await pool.query(this.#sql.heartbeat, [at, ownerId])).rowCount ?? 0) > 0, false, false)
  }

  /** Every owner, oldest first. */
  async listOwners(): Promise<Owner[]> {
    return this.#read('Cannot list the owners of', async (pool) =>
      (await pool.query<OwnerRow>(this.#sql.listOwners)).rows.map(ownerFromRow),
    )
  }

  /** Removes an owner; its runs keep their `owner_id`, orphaned, until claimed. */
  async removeOwner(ownerId: string): Promise<void> {
    await this.#write('Cannot remove an owner from', (pool) => pool.query(this.#sql.removeOwner, [ownerId]))
  }

  /**
   * In one transaction, gives `ownerId` every unfinished run that has no
   * owner, whose owner has no row, or whose owner is in `fromOwners`
   * (skipping rows another transaction holds: they are claimed next time),
   * and removes the `fromOwners` rows. Returns the claimed run ids, ascending.
   */
  async claimRuns(ownerId: string, fromOwners: readonly string[]): Promise<string[]> {
    const from = [...fromOwners]
    // Runtimes claim after every change another process announces: with nothing to take and no one to remove, a read answers.
    if (from.length === 0) {
      const any = await this.#read('Cannot claim runs in', async (pool) => (await pool.query(this.#sql.anyClaimable, [from])).rowCount ?? 0)
      if (any === 0) return []
    }
    return this.#write('Cannot claim runs in', (pool) =>
      inTransaction(pool, this.#sql.begin, async (client) => {
        const claimed = (await client.query<{ id: string }>(this.#sql.claimRuns, [from, ownerId])).rows.map((row) => row.id)
        if (from.length > 0) await client.query(this.#sql.removeOwners, [from])
        return claimed.sort()
      }),
    )
  }

  /** The owner of a run, or null. */
  async getRunOwner(runId: string): Promise<string | null> {
    return this.#read('Cannot read the owner of a run from', async (pool) => (await pool.query<{ owner_id: string | null }>(this.#sql.runOwner, [runId])).rows[0]?.owner_id ?? null)
  }

  /** Makes an unfinished run the holder of its session ahead of its start; false when another run holds it or an older one is queued. */
  async claimSession(runId: string): Promise<boolean> {
    // Unannounced: a claim gives no other process work (a run blocked on the session waits for its holder's end, `~`).
    const row = await this.#write(
      'Cannot claim a session in',
      async (pool) => (await pool.query<{ found: number; child: boolean; claimed: number }>(this.#sql.claimSessionAhead, [runId])).rows[0],
      false,
    )
    if (row === undefined || row.found === 0) return false
    // A child run runs under its parent's hold on the session.
    return row.child || row.claimed === 1
  }

  /** Adds a user memory; a duplicate id fails with `storage.failed`. */
  async insertMemory(memory: UserMemory): Promise<void> {
    await this.#write('Cannot insert a memory into', (pool) => memories.insertMemory(pool, this.#sql.memories, memory), false)
  }

  /** The user's memory with this id, or undefined. */
  async getMemory(owner: MemoryOwner, id: string): Promise<UserMemory | undefined> {
    return this.#read('Cannot read a memory from', (pool) => memories.getMemory(pool, this.#sql.memories, owner, id))
  }

  /** A page of the user's memories and how many match. */
  async listMemories(query: MemoryQuery): Promise<MemoryPage> {
    return this.#read('Cannot list the memories of', (pool) => memories.listMemories(pool, this.#sql.memories, query))
  }

  /** Changes the user's memory; undefined when the user has none with this id. */
  async updateMemory(owner: MemoryOwner, id: string, patch: MemoryPatch): Promise<UserMemory | undefined> {
    return this.#write('Cannot update a memory in', (pool) => memories.updateMemory(pool, this.#sql.memories, owner, id, patch), false)
  }

  /** Deletes those of the ids that are the user's memories; returns how many. */
  async deleteMemories(owner: MemoryOwner, ids: readonly string[]): Promise<number> {
    return this.#write('Cannot delete memories from', (pool) => memories.deleteMemories(pool, this.#sql.memories, owner, ids), false)
  }

  /** The topics of the user's memories, sorted. */
  async memoryTopics(owner: MemoryOwner): Promise<string[]> {
    return this.#read('Cannot read the memory topics of', (pool) => memories.memoryTopics(pool, this.#sql.memories, owner))
  }

  /** Records a pending control request; false when its run does not exist or has ended. */
  async insertControl(request: ControlRequest): Promise<boolean> {
    return this.#write('Cannot record a control request in', (pool) => controls.insert(pool, this.#sql, request))
  }

  /** A control request with its current status, or undefined. */
  async getControl(id: string): Promise<ControlRequest | undefined> {
    return this.#read('Cannot read a control request from', (pool) => controls.get(pool, this.#sql, id))
  }

  /** The pending and accepted control requests of the runs `ownerId` owns, oldest first. */
  async pendingControls(ownerId: string): Promise<ControlRequest[]> {
    return this.#read('Cannot read the control requests of', (pool) => controls.open(pool, this.#sql, ownerId))
  }

  /** Moves a pending control request to `accepted` or `withdrawn`; false when it is no longer pending. */
  async markControl(id: string, status: 'accepted' | 'withdrawn', at: string): Promise<boolean> {
    return this.#write('Cannot mark a control request in', (pool) => controls.mark(pool, this.#sql, id, status, at))
  }

  /** Deletes at most `limit` finished runs that ended before `finishedBefore`, with their events (by trigger). Returns how many. */
  async pruneRuns(finishedBefore: string, limit: number): Promise<number> {
    return this.#write('Cannot prune the runs of', async (pool) => (await pool.query(this.#sql.prune, [finishedBefore, limit])).rowCount ?? 0, false)
  }

  /**
   * Calls `listener` when another process (or another store object on the
   * database) has committed to the schema, announced by `NOTIFY` on
   * {@link channel} and heard on the store's listening connection: at most
   * once per turn of the event loop, and once more after that connection
   * was lost and is back. It is given the runs whose logs changed when the
   * notifications named only runs (a commit's), with `freed` when some of
   * them ended, else nothing (a claim, a control request: anything may have
   * changed). This store's own writes never call it. Returns the function
   * that stops watching.
   */
  watch(listener: (runIds?: readonly string[], freed?: boolean) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`Expected \`listener\` to be a function, got \`${typeof listener}\``)
    return this.#changes.add(listener)
  }

  /** A connection of its own for LISTEN: from `listenConnectionString`, else `connectionString`, else a client kept out of the pool. */
  async #listenConnection(): Promise<ListenConnection> {
    const options = this.#options
    const connectionString = options.listenConnectionString ?? options.connectionString
    if (connectionString !== undefined) return clientListenConnection(this.#driver as PgModule, connectionString)
    const pool = this.#connection?.pool
    if (pool === undefined) throw this.#notOpen()
    const client = await pool.connect()
    return pooledListenConnection(client)
  }

  async #read<T>(action: string, work: (pool: PgPool) => Promise<T>): Promise<T> {
    const connection = this.#connection
    if (connection === undefined) throw this.#notOpen()
    try {
      return await work(connection.pool)
    } catch (error) {
      throw toStorageError(error, `${action} ${this.#name}`)
    }
  }

  /**
   * A write outside `commit`: the commits asked for before it settle first,
   * so writes apply in call order (never waiting for commits asked for after
   * it: under load the group commit is never idle); then other processes are
   * told, unless `announce` is false. A heartbeat neither waits nor tells.
   */
  async #write<T>(action: string, work: (pool: PgPool) => Promise<T>, announce = true, ordered = true): Promise<T> {
    const connection = this.#connection
    if (connection === undefined) throw this.#notOpen()
    if (ordered && connection.group.pending) await connection.group.settled()
    try {
      const result = await work(connection.pool)
      if (announce) await connection.pool.query(this.#sql.notifyOne, [this.#options.channel, `${this.#instanceId} *`])
      return result
    } catch (error) {
      throw toStorageError(error, `${action} ${this.#name}`)
    }
  }

  #notOpen(): StorageError {
    return new StorageError('storage.failed', `The store on ${this.#name} is not open: call open() first (or it was closed)`)
  }
}

/** Creates a Store kept in PostgreSQL; call `open()` (or let `Runtime.open` do it) before use. */
export function postgresStore(connection: PostgresConnection, options?: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(connection, options)
}
