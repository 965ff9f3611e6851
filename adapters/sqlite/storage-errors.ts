/**
 * How SQLite's errors become `StorageError`s: a busy or locked database is
 * `storage.busy` (worth a retry), a damaged file is `storage.corrupt`, and
 * everything else is `storage.failed`. The original error is kept as `cause`.
 */
import { StorageError } from '../../src/errors.js'

type StorageErrorCode = 'storage.busy' | 'storage.failed' | 'storage.corrupt'

/** The storage code of a SQLite result code such as `SQLITE_BUSY_SNAPSHOT`. */
export function storageCodeOf(sqliteCode: string | undefined): StorageErrorCode {
  if (sqliteCode === undefined) return 'storage.failed'
  if (sqliteCode.startsWith('SQLITE_BUSY') || sqliteCode.startsWith('SQLITE_LOCKED')) return 'storage.busy'
  if (sqliteCode.startsWith('SQLITE_CORRUPT') || sqliteCode === 'SQLITE_NOTADB') return 'storage.corrupt'
  return 'storage.failed'
}

/** The SQLite result code of an error thrown by better-sqlite3, if it is one. */
export function sqliteCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined
}

/**
 * Wraps any thrown value in a `StorageError`; a `StorageError` passes through.
 * `action` says what was being done, e.g. `Cannot commit to /data/agents.db`.
 */
export function toStorageError(error: unknown, action: string): StorageError {
  if (error instanceof StorageError) return error
  const sqliteCode = sqliteCodeOf(error)
  const code = storageCodeOf(sqliteCode)
  const reason = error instanceof Error ? error.message : String(error)
  const hint = code === 'storage.busy' ? '; another connection held the lock past the busy timeout, try again' : ''
  return new StorageError(code, `${action}: ${reason}${sqliteCode === undefined ? '' : ` (${sqliteCode})`}${hint}`, { cause: error })
}
