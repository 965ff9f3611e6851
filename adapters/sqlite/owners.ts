/**
 * Ownership in the SQLite store: the `owners` table (the processes executing
 * runs on the file) and `runs.owner_id`. A claim is one write transaction, so
 * two processes claiming at once never take the same run: the second waits
 * for the first's lock and then sees its `owner_id`s.
 */
import type { Owner } from '../../src/store.js'
import { ownerFromRow, type OwnerRow } from '../sql/records.js'
import type { SqliteStatement } from './database-types.js'
import type { Statements } from './statements.js'

// Served by runs_by_status (status, id): only the rows of the three unfinished statuses are read.
const unfinished = "status IN ('queued', 'running', 'waiting_for_input')"
// The owners given are passed as one JSON array, so one prepared statement serves any number of them.
const claimable = `${unfinished} AND (owner_id IS NULL OR owner_id NOT IN (SELECT id FROM owners) OR owner_id IN (SELECT value FROM json_each(?)))`

/** The claim: parameters are the claiming owner and a JSON array of the owners to take runs from. */
export const claimSql = `UPDATE runs SET owner_id = ? WHERE ${claimable} RETURNING id`

/** Whether a claim would take anything, without taking the write lock; the parameter is the JSON array of owners. */
export const anyClaimableSql = `SELECT 1 FROM runs WHERE ${claimable} LIMIT 1`

/** The owner statements of one connection, and the claim transaction. */
export class OwnerStatements {
  readonly #statements: Statements
  readonly #register: SqliteStatement
  readonly #heartbeat: SqliteStatement
  readonly #list: SqliteStatement
  readonly #remove: SqliteStatement
  readonly #removeMany: SqliteStatement
  readonly #anyClaimable: SqliteStatement
  readonly #claim: SqliteStatement
  readonly #runOwner: SqliteStatement

  constructor(statements: Statements) {
    const database = statements.database
    this.#statements = statements
    this.#register = database.prepare(
      'INSERT INTO owners (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at',
    )
    this.#heartbeat = database.prepare('UPDATE owners SET heartbeat_at = ? WHERE id = ?')
    this.#list = database.prepare('SELECT id, pid, host, started_at, heartbeat_at FROM owners ORDER BY started_at, id')
    this.#remove = database.prepare('DELETE FROM owners WHERE id = ?')
    this.#removeMany = database.prepare('DELETE FROM owners WHERE id IN (SELECT value FROM json_each(?))')
    this.#anyClaimable = database.prepare(anyClaimableSql).pluck()
    this.#claim = database.prepare(claimSql).pluck()
    this.#runOwner = database.prepare('SELECT owner_id FROM runs WHERE id = ?').pluck()
  }

  /** Inserts the owner, or replaces the row of the same id. */
  register(owner: Owner): void {
    this.#register.run(owner.id, owner.pid, owner.host, owner.startedAt, owner.heartbeatAt)
  }

  /** Sets the owner's `heartbeat_at`; false when its row is gone. */
  heartbeat(ownerId: string, at: string): boolean {
    return this.#heartbeat.run(at, ownerId).changes > 0
  }

  /** Every owner, oldest first. */
  list(): Owner[] {
    return (this.#list.all() as OwnerRow[]).map(ownerFromRow)
  }

  /** Deletes the owner's row; its runs keep their `owner_id` and become claimable. */
  remove(ownerId: string): void {
    this.#remove.run(ownerId)
  }

  /** Gives `ownerId` every claimable run and removes `fromOwners`, in one transaction. Returns the run ids, ascending. */
  claim(ownerId: string, fromOwners: readonly string[]): string[] {
    const from = JSON.stringify(fromOwners)
    // Runtimes claim after every change another process makes: with nothing to take and no one to
    // remove, a read answers without taking the write lock.
    if (fromOwners.length === 0 && this.#anyClaimable.get(from) === undefined) return []
    const statements = this.#statements
    statements.begin.run()
    let claimed: string[]
    try {
      claimed = this.#claim.all(ownerId, from) as string[]
      if (fromOwners.length > 0) this.#removeMany.run(from)
      statements.commit.run()
    } catch (error) {
      if (statements.database.inTransaction) statements.rollback.run()
      throw error
    }
    return claimed.sort()
  }

  /** The run's owner; null when it has none or there is no such run. */
  runOwner(runId: string): string | null {
    return (this.#runOwner.get(runId) as string | null | undefined) ?? null
  }
}
