/**
 * Retention: deleting finished runs that ended before a time, a batch per
 * call, each batch one short transaction (a run's events and details go with
 * it by cascade). Freed pages are reused by later writes, so under a steady
 * load a file pruned to a retention window stops growing. A file made with
 * `auto_vacuum = INCREMENTAL` (every file this store creates) also gives
 * space back to the OS when pruning leaves much of it free.
 */
import type { SqliteStatement } from './database-types.js'
import type { Statements } from './statements.js'

/** Free pages given back per prune call at most: 4 MB at the default page size, a few ms of work. */
export const maxVacuumPages = 1024

/**
 * One batch of pruning: parameters are the time before which runs ended, and
 * the batch size. The partial index runs_ended holds finished runs only, by
 * `ended_at`, so the batch is read off its front. It is named, since without
 * statistics the planner would take runs_by_status and sort every finished run.
 */
export const pruneSql =
  "DELETE FROM runs WHERE id IN (SELECT id FROM runs INDEXED BY runs_ended WHERE status IN ('completed', 'failed', 'cancelled') AND ended_at < ? ORDER BY ended_at LIMIT ?)"

/** The prune transaction of one connection. */
export class Pruner {
  readonly #statements: Statements
  readonly #delete: SqliteStatement
  readonly #freePages: SqliteStatement
  readonly #pages: SqliteStatement
  readonly #incremental: boolean

  constructor(statements: Statements) {
    const database = statements.database
    this.#statements = statements
    this.#delete = database.prepare(pruneSql)
    this.#freePages = database.prepare('PRAGMA freelist_count').pluck()
    this.#pages = database.prepare('PRAGMA page_count').pluck()
    this.#incremental = database.pragma('auto_vacuum', { simple: true }) === 2
  }

  /** Deletes at most `limit` runs that ended before `finishedBefore`, in one transaction. Returns how many. */
  prune(finishedBefore: string, limit: number): number {
    const statements = this.#statements
    statements.begin.run()
    try {
      const freeBefore = this.#incremental ? (this.#freePages.get() as number) : 0
      const deleted = this.#delete.run(finishedBefore, limit).changes
      if (deleted > 0 && this.#incremental) this.#giveBackSpace(freeBefore)
      statements.commit.run()
      return deleted
    } catch (error) {
      if (statements.database.inTransaction) statements.rollback.run()
      throw error
    }
  }

  /**
   * Truncates free pages off the file once more than a quarter of it is free,
   * keeping twice what this call freed: under a steady load the next writes
   * reuse that much, and giving it back only to grow the file again would move
   * pages for nothing. After a large cleanup, the space comes back over the
   * following calls, at most `maxVacuumPages` each.
   */
  #giveBackSpace(freeBefore: number): void {
    const free = this.#freePages.get() as number
    const pages = this.#pages.get() as number
    if (free * 4 <= pages) return
    const excess = free - 2 * (free - freeBefore)
    if (excess > 0) this.#statements.database.pragma(`incremental_vacuum(${Math.min(excess, maxVacuumPages)})`)
  }
}
