/**
 * Group commit: the commits asked for in one tick share one SQLite
 * transaction. A commit that fails rejects only its own promise; the others
 * land (the batch is then applied again with each commit in its own
 * SAVEPOINT). Every promise settles only after the shared transaction has
 * committed, so an event is stored before anyone can see it.
 */
import type { Commit } from '../../src/store.js'
import type { StorageError } from '../../src/errors.js'
import { applyCommit } from './apply-commit.js'
import type { Statements } from './statements.js'
import { toStorageError } from './storage-errors.js'

/** Counters of the group commit, for tuning and tests. */
export interface GroupCommitStatistics {
  /** Transactions begun to apply commits. */
  transactions: number
  /** Commits applied (landed or rejected). */
  commits: number
  /** Commits rejected. */
  rejected: number
  /** Batches rolled back and applied again, commit by commit, because one of their commits failed. */
  retries: number
}

/** Queues commits and applies each tick's worth in one transaction. */
export class GroupCommit {
  readonly statistics: GroupCommitStatistics
  readonly #statements: Statements
  readonly #action: string
  readonly #afterCommit: (() => void) | undefined
  // Two sets of queues, swapped at each flush, so the hot path allocates no arrays.
  #commits: Commit[] = []
  #resolves: (() => void)[] = []
  #rejects: ((error: StorageError) => void)[] = []
  #spareCommits: Commit[] = []
  #spareResolves: (() => void)[] = []
  #spareRejects: ((error: StorageError) => void)[] = []
  readonly #errors: (StorageError | undefined)[] = []
  #scheduled: NodeJS.Immediate | undefined
  // Made once, so queueing a commit allocates no closure.
  readonly #capture = (resolve: () => void, reject: (error: StorageError) => void): void => {
    this.#resolves.push(resolve)
    this.#rejects.push(reject)
  }
  readonly #flush = (): void => {
    this.#scheduled = undefined
    this.flush()
  }

  /**
   * `action` opens error messages, e.g. `Cannot commit to agents.db`;
   * `statistics` is counted into; `afterCommit` is called after each
   * transaction that committed.
   */
  constructor(statements: Statements, action: string, statistics: GroupCommitStatistics, afterCommit?: () => void) {
    this.#statements = statements
    this.#action = action
    this.statistics = statistics
    this.#afterCommit = afterCommit
  }

  /** True when commits wait for the next flush. */
  get pending(): boolean {
    return this.#commits.length > 0
  }

  /** Queues `commit`; the promise settles once its transaction has committed or it was rolled back. */
  enqueue(commit: Commit): Promise<void> {
    this.#commits.push(commit)
    const promise = new Promise<void>(this.#capture)
    // setImmediate rather than queueMicrotask, by measurement (bench/sqlite-store.ts, 200 runs of
    // 30 events): when each run's next chunk arrives in a callback of its own, as model streams
    // do, a microtask flush runs after every callback and took ~5,800 transactions (~13,500
    // events/s), while setImmediate runs after the whole poll phase and took 30 (~74,000 events/s).
    // When runs only await one another the two batch alike (30 transactions, within noise).
    if (this.#scheduled === undefined) this.#scheduled = setImmediate(this.#flush)
    return promise
  }

  /** Applies every queued commit now, in one transaction. Synchronous: returns once all are settled. */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled)
      this.#scheduled = undefined
    }
    const commits = this.#commits
    const count = commits.length
    if (count === 0) return
    const resolves = this.#resolves
    const rejects = this.#rejects
    this.#commits = this.#spareCommits
    this.#resolves = this.#spareResolves
    this.#rejects = this.#spareRejects
    this.#spareCommits = commits
    this.#spareResolves = resolves
    this.#spareRejects = rejects

    const batchError = this.#apply(commits)
    const errors = this.#errors
    for (let index = 0; index < count; index++) {
      const error = batchError ?? errors[index]
      if (error === undefined) (resolves[index] as () => void)()
      else {
        this.statistics.rejected++
        ;(rejects[index] as (error: StorageError) => void)(error)
      }
    }
    commits.length = 0
    resolves.length = 0
    rejects.length = 0
    errors.length = 0
  }

  /** Runs the transaction; fills `#errors` per commit, or returns the error that sank the whole batch. */
  #apply(commits: Commit[]): StorageError | undefined {
    const statements = this.#statements
    try {
      statements.begin.run()
    } catch (error) {
      return toStorageError(error, this.#action)
    }
    this.statistics.transactions++
    this.statistics.commits += commits.length
    // Optimistic first: the commits one after another with no savepoints, which cost two statements
    // per commit and a copy of every page a commit touches first. A commit that fails is rare (a
    // conflict, a missing run); then the whole transaction goes back and is applied again, each
    // commit in its own savepoint, so that only the failing ones are rejected.
    if (this.#applyAll(commits)) return this.#commit()
    const failed = this.#abandon()
    if (failed !== undefined) return failed
    this.statistics.retries++
    try {
      statements.begin.run()
    } catch (error) {
      return toStorageError(error, this.#action)
    }
    this.statistics.transactions++
    return this.#applyEach(commits) ?? this.#commit()
  }

  /** Applies every commit with no savepoint; false when one of them failed. `#errors` stays empty: none failed. */
  #applyAll(commits: Commit[]): boolean {
    const statements = this.#statements
    const count = commits.length
    try {
      for (let index = 0; index < count; index++) applyCommit(statements, commits[index] as Commit)
    } catch {
      return false
    }
    return true
  }

  /** Applies each commit in a savepoint, recording its error; returns the error that sank the whole batch. */
  #applyEach(commits: Commit[]): StorageError | undefined {
    const statements = this.#statements
    const database = statements.database
    const errors = this.#errors
    const count = commits.length
    for (let index = 0; index < count; index++) {
      statements.savepoint.run()
      try {
        applyCommit(statements, commits[index] as Commit)
        statements.release.run()
        errors.push(undefined)
      } catch (error) {
        // Some errors (a full disk, an I/O error) make SQLite roll back the whole transaction.
        if (!database.inTransaction) return toStorageError(error, this.#action)
        try {
          statements.rollbackToSavepoint.run()
          statements.release.run()
        } catch (rollbackError) {
          this.#abandon()
          return toStorageError(rollbackError, this.#action)
        }
        errors.push(toStorageError(error, this.#action))
      }
    }
    return undefined
  }

  #commit(): StorageError | undefined {
    try {
      this.#statements.commit.run()
    } catch (error) {
      this.#abandon()
      return toStorageError(error, this.#action)
    }
    this.#afterCommit?.()
    return undefined
  }

  /** Rolls back the open transaction, if any; returns the error when even that failed. */
  #abandon(): StorageError | undefined {
    try {
      if (this.#statements.database.inTransaction) this.#statements.rollback.run()
    } catch (error) {
      return toStorageError(error, this.#action)
    }
    return undefined
  }
}
