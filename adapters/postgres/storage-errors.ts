/**
 * How PostgreSQL's errors become `StorageError`s: a server that cannot be
 * reached, is shutting down or refuses connections, and a transaction that
 * lost a deadlock or a serialization race, are `storage.busy` (worth a
 * retry); a damaged table is `storage.corrupt`; everything else is
 * `storage.failed`. The original error is kept as `cause`.
 */
import { StorageError } from '../../src/errors.js'

type StorageErrorCode = 'storage.busy' | 'storage.failed' | 'storage.corrupt'

/** Node's socket errors that mean the server is not there (yet, or any more). */
const unreachable = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/** The SQLSTATE of an error thrown by `pg` (five characters, e.g. `23505`), or a Node socket code, if it has one. */
export function pgCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** True for errors after which the same transaction may well succeed: a deadlock, a serialization failure. */
export function isRetryable(error: unknown): boolean {
  const code = pgCodeOf(error)
  return code === '40001' || code === '40P01'
}

/** The storage code of a SQLSTATE or socket code. */
export function storageCodeOf(code: string | undefined, message = ''): StorageErrorCode {
  if (code === undefined) {
    // pg reports a connection it lost, or a pool it ended, without a code.
    return /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end/i.test(message) ? 'storage.busy' : 'storage.failed'
  }
  if (unreachable.has(code)) return 'storage.busy'
  // 08: connection exceptions; 57P0x: the server is shutting down or restarting; 53: out of resources (too many connections);
  // 40001, 40P01: serialization failure, deadlock; 55P03: lock not available.
  if (code.startsWith('08') || code.startsWith('57P') || code.startsWith('53') || code === '40001' || code === '40P01' || code === '55P03') return 'storage.busy'
  if (code === 'XX001' || code === 'XX002') return 'storage.corrupt'
  return 'storage.failed'
}

/**
 * Wraps any thrown value in a `StorageError`; a `StorageError` passes through.
 * `action` says what was being done, e.g. `Cannot commit to the database`.
 */
export function toStorageError(error: unknown, action: string): StorageError {
  if (error instanceof StorageError) return error
  const code = pgCodeOf(error)
  const reason = error instanceof Error ? error.message : String(error)
  const storageCode = storageCodeOf(code, reason)
  const hint = storageCode === 'storage.busy' ? '; the server is unreachable or busy, try again' : ''
  return new StorageError(storageCode, `${action}: ${reason}${code === undefined ? '' : ` (${code})`}${hint}`, { cause: error })
}
