/**
 * Control requests in the SQLite store: the `controls` table, where any
 * process records a cancel or an input for a run, and the run's owner
 * accepts it, then settles it in the commit that applies it. A request goes
 * with its run (foreign key, on delete cascade).
 */
import { StorageError } from '../../src/errors.js'
import type { ControlRequest, ControlSettlement } from '../../src/store.js'
import { controlFromRow, type ControlRow } from '../sql/records.js'
import type { SqliteStatement } from './database-types.js'
import type { Statements } from './statements.js'

/** The pending and accepted requests of an owner's runs; `status IN (...)` written as the partial index controls_open has it. */
export const openControlsSql =
  "SELECT c.* FROM controls c JOIN runs r ON r.id = c.run_id WHERE c.status IN ('pending', 'accepted') AND r.owner_id = ? ORDER BY c.id"

/** The control statements of one connection. */
export class ControlStatements {
  readonly #insert: SqliteStatement
  readonly #get: SqliteStatement
  readonly #open: SqliteStatement
  readonly #mark: SqliteStatement
  readonly #settle: SqliteStatement
  readonly #status: SqliteStatement

  constructor(statements: Statements) {
    const database = statements.database
    this.#insert = database.prepare(
      'INSERT INTO controls (id, run_id, action, status, error, created_at, settled_at) SELECT ?, ?, ?, ?, ?, ?, ? ' +
        "WHERE EXISTS (SELECT 1 FROM runs WHERE id = ? AND status IN ('queued', 'running', 'waiting_for_input'))",
    )
    this.#get = database.prepare('SELECT * FROM controls WHERE id = ?')
    this.#open = database.prepare(openControlsSql)
    this.#mark = database.prepare("UPDATE controls SET status = ?, settled_at = ? WHERE id = ? AND status = 'pending'")
    this.#settle = database.prepare("UPDATE controls SET status = ?, error = ?, settled_at = ? WHERE id = ? AND status = 'accepted'")
    this.#status = database.prepare('SELECT status FROM controls WHERE id = ?').pluck()
  }

  /** Records a pending request of an unfinished run; false when the run is missing or ended. */
  insert(request: ControlRequest): boolean {
    const values = [request.id, request.runId, JSON.stringify(request.action), request.status, request.error === null ? null : JSON.stringify(request.error)]
    try {
      return this.#insert.run(...values, request.createdAt, request.settledAt, request.runId).changes === 1
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new StorageError('storage.failed', `Control request ${request.id} already exists`, { cause: error })
      }
      throw error
    }
  }

  /** A request, or undefined. */
  get(id: string): ControlRequest | undefined {
    const row = this.#get.get(id) as ControlRow | undefined
    return row === undefined ? undefined : controlFromRow(row)
  }

  /** The pending and accepted requests of the runs `ownerId` owns, oldest first. */
  open(ownerId: string): ControlRequest[] {
    return (this.#open.all(ownerId) as ControlRow[]).map(controlFromRow)
  }

  /** Moves a pending request to `accepted` or `withdrawn`; false when it is not pending. */
  mark(id: string, status: 'accepted' | 'withdrawn', at: string): boolean {
    return this.#mark.run(status, status === 'withdrawn' ? at : null, id).changes === 1
  }

  /** Inside a commit's transaction: settles accepted requests; throws when one is not accepted. */
  settle(settlements: readonly ControlSettlement[]): void {
    for (const settlement of settlements) {
      const error = settlement.error === undefined ? null : JSON.stringify({ code: settlement.error.code, message: settlement.error.message })
      if (this.#settle.run(settlement.status, error, settlement.settledAt, settlement.id).changes === 1) continue
      const status = this.#status.get(settlement.id) as string | undefined
      if (status === undefined) throw new StorageError('storage.failed', `Control request ${settlement.id} does not exist`)
      throw new StorageError('storage.conflict', `Control request ${settlement.id} is ${status}, not accepted`)
    }
  }
}
