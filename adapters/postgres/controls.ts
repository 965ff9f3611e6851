/**
 * Control requests in the PostgreSQL store: the `controls` table, where any
 * process records a cancel or an input for a run, and the run's owner
 * accepts it, then settles it in the commit that applies it (see
 * `apply-commit.ts`). A request goes with its run (foreign key, on delete
 * cascade).
 */
import { StorageError } from '../../src/errors.js'
import type { ControlRequest } from '../../src/store.js'
import { controlFromRow, type ControlRow } from '../sql/records.js'
import type { PgQueryable } from './pg-types.js'
import type { Statements } from './statements.js'
import { pgCodeOf } from './storage-errors.js'

/** Records a pending request of an unfinished run; false when the run is missing or ended. */
export async function insert(pool: PgQueryable, sql: Statements, request: ControlRequest): Promise<boolean> {
  const values = [request.id, request.runId, JSON.stringify(request.action), request.status, request.error === null ? null : JSON.stringify(request.error)]
  try {
    return (await pool.query(sql.insertControl, [...values, request.createdAt, request.settledAt])).rowCount === 1
  } catch (error) {
    if (pgCodeOf(error) === '23505') throw new StorageError('storage.failed', `Control request ${request.id} already exists`, { cause: error })
    throw error
  }
}

/** A request, or undefined. */
export async function get(pool: PgQueryable, sql: Statements, id: string): Promise<ControlRequest | undefined> {
  const row = (await pool.query<ControlRow>(sql.getControl, [id])).rows[0]
  return row === undefined ? undefined : controlFromRow(row)
}

/** The pending and accepted requests of the runs `ownerId` owns, oldest first. */
export async function open(pool: PgQueryable, sql: Statements, ownerId: string): Promise<ControlRequest[]> {
  return (await pool.query<ControlRow>(sql.openControls, [ownerId])).rows.map(controlFromRow)
}

/** Moves a pending request to `accepted` or `withdrawn`; false when it is not pending. */
export async function mark(pool: PgQueryable, sql: Statements, id: string, status: 'accepted' | 'withdrawn', at: string): Promise<boolean> {
  return (await pool.query(sql.markControl, [status, status === 'withdrawn' ? at : null, id])).rowCount === 1
}
