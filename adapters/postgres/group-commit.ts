/**
 * Group commit on PostgreSQL: the commits asked for while the previous
 * transaction was under way share the next one, on one pooled connection.
 * Commits that only append events (the bulk of a busy runtime) are checked
 * and written together: one UPDATE advances every run's seq (checking seq,
 * session and owner, the fence), one INSERT writes every event, whatever the
 * batch's size. Any other commit runs statement by statement; when one
 * fails, the transaction is rolled back and the batch applied again with
 * each commit in a SAVEPOINT of its own, so a failing one rejects only its
 * own promise. The transaction
 * ends with one `NOTIFY` per 7 kB of changed run ids and seqs (see
 * `notifications.ts`), delivered by the server only if it commits. Every
 * promise settles only after COMMIT, so an event is stored before anyone can
 * see it.
 */
import type { StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import { isTerminalStatus, type Commit } from '../../src/store.js'
import { checkOut } from './checkout.js'
import { addEvents, applyCommit, checkEventOrder, eventColumns, seqRefusal, type EventColumns } from './apply-commit.js'
import { changePayloads } from './notifications.js'
import type { PgPool, PgPoolClient } from './pg-types.js'
import type { Statements } from './statements.js'
import { isRetryable, storageCodeOf, pgCodeOf, toStorageError } from './storage-errors.js'

/** Counters of the group commit, for tuning and tests. */
export interface PostgresGroupCommitStatistics {
  /** Transactions committed or tried. */
  transactions: number
  /** Commits applied (landed or rejected). */
  commits: number
  /** Commits rejected. */
  rejected: number
  /** Batches tried again: after a deadlock or serialization failure, or commit by commit after an unexpected failure of the batched path. */
  retries: number
}

interface Entry {
  commit: Commit
  resolve: () => void
  reject: (error: StorageError) => void
}

const noop = (): void => {}

/** Deadlocks and serialization failures are tried again this many times before the batch is rejected. */
const maxRetries = 3

/** True for a commit that only appends events of one run and session (with or without an owner fence). */
function isEventsOnly(commit: Commit): boolean {
  const events = commit.events
  if (events === undefined || events.length === 0) return false
  if (commit.insertRun !== undefined || commit.run !== undefined || commit.sessionState !== undefined || commit.contextSummary !== undefined) return false
  if (commit.answerMessages !== undefined || commit.settleControls !== undefined || commit.memoryWrites !== undefined) return false
  const sessionId = (events[0] as RunEvent).sessionId
  return events.every((event) => event.sessionId === sessionId)
}

/**
 * What a commit may give another process to do: `claim` for a run inserted
 * without an owner (an observer's, for an executing process to claim),
 * `freed` for a run that ended (its session may now start a run another
 * process queued on it); undefined otherwise (a run's own start, wait or
 * answer concerns only its owner).
 */
function concernOf(commit: Commit): 'claim' | 'freed' | undefined {
  if (commit.insertRun !== undefined && commit.ownerId === undefined) return 'claim'
  const status = commit.run?.patch.status
  return status !== undefined && isTerminalStatus(status) ? 'freed' : undefined
}

/** The run a commit writes, if any. */
function runOf(commit: Commit): string | undefined {
  return commit.run?.id ?? commit.events?.[0]?.runId ?? commit.insertRun?.id
}

/** Queues commits and applies each batch in one transaction, one transaction at a time. */
export class PostgresGroupCommit {
  readonly statistics: PostgresGroupCommitStatistics
  readonly #pool: PgPool
  readonly #sql: Statements
  readonly #action: string
  readonly #channel: string
  readonly #instanceId: string
  #queue: Entry[] = []
  #draining: Promise<void> | undefined
  /** The promise of the commit queued last. */
  #last: Promise<void> | undefined

  /**
   * `action` opens error messages; commits are announced on `channel` as
   * coming from `instanceId`; `statistics` is counted into.
   */
  constructor(pool: PgPool, sql: Statements, options: { action: string; channel: string; instanceId: string; statistics: PostgresGroupCommitStatistics }) {
    this.#pool = pool
    this.#sql = sql
    this.#action = options.action
    this.#channel = options.channel
    this.#instanceId = options.instanceId
    this.statistics = options.statistics
  }

  /** True while commits wait or a transaction is under way. */
  get pending(): boolean {
    return this.#draining !== undefined
  }

  /** Queues `commit`; the promise settles once its transaction has committed or it was rolled back. */
  enqueue(commit: Commit): Promise<void> {
    const promise = new Promise<void>((resolve, reject) => {
      this.#queue.push({ commit, resolve, reject })
    })
    this.#last = promise
    // setImmediate, as in the SQLite store: the commits of every callback of this poll phase join the batch.
    this.#draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain())
    return promise
  }

  /**
   * Resolves once every commit queued so far has settled (landed or not),
   * however many are queued after this call: batches commit in order, so the
   * last one queued settles last.
   */
  settled(): Promise<void> {
    const last = this.#last
    return last === undefined ? Promise.resolve() : last.then(noop, noop)
  }

  /** Resolves once nothing is queued or under way (for closing). */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue
        this.#queue = []
        await this.#apply(batch)
      }
    } finally {
      this.#draining = undefined
    }
  }

  async #apply(batch: Entry[]): Promise<void> {
    const statistics = this.statistics
    statistics.commits += batch.length
    let client: PgPoolClient
    try {
      client = await checkOut(this.#pool)
    } catch (error) {
      this.#rejectAll(batch, error)
      return
    }
    let careful = false
    for (let attempt = 0; ; attempt++) {
      statistics.transactions++
      let errors: (StorageError | undefined)[]
      try {
        errors = await this.#transaction(client, batch, careful)
      } catch (error) {
        const broken = isBroken(error)
        if (!broken) await client.query('ROLLBACK').catch(() => {})
        if (!broken && attempt < maxRetries && (isRetryable(error) || !careful)) {
          // A lost race is tried again as it was; anything else, commit by commit, so that only the culprit fails.
          if (!isRetryable(error)) careful = true
          statistics.retries++
          continue
        }
        client.release(broken ? (error as Error) : undefined)
        this.#rejectAll(batch, error)
        return
      }
      client.release()
      for (let index = 0; index < batch.length; index++) {
        const entry = batch[index] as Entry
        const error = errors[index]
        if (error === undefined) entry.resolve()
        else {
          statistics.rejected++
          entry.reject(error)
        }
      }
      return
    }
  }

  /** One transaction over the batch; returns each commit's error (undefined: it landed), or throws when the whole transaction failed. */
  async #transaction(client: PgPoolClient, batch: readonly Entry[], careful: boolean): Promise<(StorageError | undefined)[]> {
    const sql = this.#sql
    const errors: (StorageError | undefined)[] = new Array(batch.length)
    const changes = new Map<string, number | undefined>()
    // True once a commit landed that may give another process work (see concernOf): the notification then
    // says `*` (look for runs to claim) or `~` (runs ended: try the sessions that waited for them).
    let more = false
    let freed = false
    // The optimistic pass inserts the events of its other commits with one INSERT at the end (a round trip saved per commit).
    const deferred = careful ? undefined : eventColumns()
    await client.query(sql.begin)
    // The event-only commits waiting to be written together (indexes into batch), and their runs.
    let group: number[] = []
    const grouped = new Set<string>()
    const writeGroup = async (): Promise<void> => {
      if (group.length > 0) await this.#writeEventsOnly(client, batch, group, errors, changes, deferred)
      group = []
      grouped.clear()
    }
    for (let index = 0; index < batch.length; index++) {
      const commit = (batch[index] as Entry).commit
      const runId = runOf(commit)
      if (!careful && isEventsOnly(commit)) {
        // A second commit of a run waits for the first's write: the seq check of the batched UPDATE sees rows as they were.
        if (grouped.has(runId as string)) await writeGroup()
        try {
          checkEventOrder(runId as string, commit.events as readonly RunEvent[])
        } catch (error) {
          errors[index] = toStorageError(error, `${this.#action}`)
          continue
        }
        group.push(index)
        grouped.add(runId as string)
        continue
      }
      await writeGroup()
      if (!careful) {
        // Optimistic, without a savepoint (two round trips saved per commit): a failure aborts the
        // transaction, and the batch is applied again commit by commit, each in a savepoint.
        await applyCommit(client, sql, commit, deferred)
        if (runId !== undefined) changes.set(runId, commit.events?.at(-1)?.seq ?? changes.get(runId))
        const concern = concernOf(commit)
        more ||= concern === 'claim'
        freed ||= concern === 'freed'
        continue
      }
      await client.query('SAVEPOINT hearth_commit')
      try {
        await applyCommit(client, sql, commit)
        await client.query('RELEASE SAVEPOINT hearth_commit')
        if (runId !== undefined) changes.set(runId, commit.events?.at(-1)?.seq ?? changes.get(runId))
        const concern = concernOf(commit)
        more ||= concern === 'claim'
        freed ||= concern === 'freed'
      } catch (error) {
        if (isBroken(error)) throw error
        await client.query('ROLLBACK TO SAVEPOINT hearth_commit')
        errors[index] = toStorageError(error, this.#action)
      }
    }
    await writeGroup()
    const payloads = changes.size > 0 ? changePayloads(this.#instanceId, changes, more, freed) : undefined
    if (deferred !== undefined && deferred.runIds.length > 0) {
      // One round trip for the batch's events and its notification.
      const columns = [deferred.runIds, deferred.seqs, deferred.types, deferred.data, deferred.times]
      if (payloads === undefined) await client.query(sql.insertEvents, columns)
      else await client.query(sql.insertEventsAndNotify, [...columns, this.#channel, payloads])
    } else if (payloads !== undefined) await client.query(sql.notify, [this.#channel, payloads])
    const result = await client.query('COMMIT')
    // A transaction that an error aborted answers COMMIT with ROLLBACK, not an error.
    if ((result as { command?: string }).command === 'ROLLBACK') throw new Error('The transaction was rolled back at COMMIT')
    return errors
  }

  /** Advances the seqs of the grouped event-only commits in one UPDATE and writes the events of those that passed in one INSERT. */
  async #writeEventsOnly(
    client: PgPoolClient,
    batch: readonly Entry[],
    group: readonly number[],
    errors: (StorageError | undefined)[],
    changes: Map<string, number | undefined>,
    deferred: EventColumns | undefined,
  ): Promise<void> {
    const sql = this.#sql
    const ids: string[] = []
    const expected: number[] = []
    const last: number[] = []
    const sessions: (string | null)[] = []
    const fences: (string | null)[] = []
    for (const index of group) {
      const commit = (batch[index] as Entry).commit
      const events = commit.events as readonly RunEvent[]
      const first = events[0] as RunEvent
      ids.push(first.runId)
      expected.push(first.seq - 1)
      last.push(first.seq - 1 + events.length)
      sessions.push(first.sessionId)
      fences.push(commit.ownerId ?? null)
    }
    const { rows } = await client.query<{ id: string }>(sql.advanceSeqs, [ids, expected, last, sessions, fences])
    const advanced = new Set(rows.map((row) => row.id))
    // The optimistic pass writes them with the batch's last statement; the careful one now.
    const columns = deferred ?? eventColumns()
    for (const index of group) {
      const commit = (batch[index] as Entry).commit
      const events = commit.events as readonly RunEvent[]
      const runId = (events[0] as RunEvent).runId
      if (advanced.has(runId)) {
        addEvents(columns, runId, events)
        changes.set(runId, (events.at(-1) as RunEvent).seq)
      } else {
        errors[index] = await seqRefusal(client, sql, runId, events, commit.ownerId)
      }
    }
    if (deferred === undefined && columns.runIds.length > 0) await client.query(sql.insertEvents, [columns.runIds, columns.seqs, columns.types, columns.data, columns.times])
  }

  #rejectAll(batch: readonly Entry[], error: unknown): void {
    const storageError = toStorageError(error, this.#action)
    this.statistics.rejected += batch.length
    for (const entry of batch) entry.reject(storageError)
  }
}

/** True when the connection itself failed (it must not go back to the pool): a socket error, the server going away. */
export function isBroken(error: unknown): boolean {
  const code = pgCodeOf(error)
  if (code !== undefined && code.length === 5 && !code.startsWith('08') && !code.startsWith('57P')) return false
  return storageCodeOf(code, error instanceof Error ? error.message : String(error)) === 'storage.busy'
}
