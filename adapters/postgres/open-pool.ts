/**
 * Opening the store's database: the pool (made from the connection string,
 * or the app's), an `error` listener on it, the migrations and the store id.
 * On failure, the listener goes and a pool made here is ended, so there is
 * never a half-open store; the error is a `StorageError` naming the schema.
 */
import { StorageError } from '../../src/errors.js'
import { checkOut } from './checkout.js'
import { migrate } from './migrations.js'
import type { ResolvedPostgresStoreOptions } from './options.js'
import type { PgModule, PgPool } from './pg-types.js'
import type { Statements } from './statements.js'
import { toStorageError } from './storage-errors.js'

/** An open, migrated pool. */
export interface OpenPool {
  pool: PgPool
  /** True when the store made it (and so ends it). */
  owned: boolean
  /** The store id kept in the schema. */
  id: string
  /** The pool's `error` listener, to take off at close. */
  onPoolError: (error: Error) => void
}

/** Makes (or adopts) the pool, migrates the schema and reads the store id. `driver` is needed only to make a pool. */
export async function openPool(options: ResolvedPostgresStoreOptions, driver: PgModule | undefined, sql: Statements, name: string): Promise<OpenPool> {
  const owned = options.pool === undefined
  const pool = options.pool ?? new (driver as PgModule).Pool({ connectionString: options.connectionString as string, max: options.poolSize, application_name: 'hearth-runtime' })
  // An idle client that loses its server (a restart) emits 'error' on the pool: without a listener, Node would exit.
  const onPoolError = (error: Error): void => options.logger.warn(`hearth: a connection to ${name} was lost`, error)
  pool.on('error', onPoolError)
  try {
    const client = await checkOut(pool)
    try {
      await migrate(client, options.schema, undefined, name)
      const row = (await client.query<{ value: string }>(sql.readMeta, ['store_id'])).rows[0]
      if (row === undefined) throw new StorageError('storage.corrupt', `${name} has no store id in its meta table`)
      return { pool, owned, id: row.value, onPoolError }
    } finally {
      client.release()
    }
  } catch (error) {
    await releasePool(pool, owned, onPoolError)
    throw toStorageError(error, `Cannot open ${name}`)
  }
}

/**
 * Lets go of the pool: an adopted one loses the store's `error` listener (the
 * app has its own); one the store made is ended, and keeps a listener that
 * drops errors, since `pool.end()` resolves before its clients' sockets
 * close, and a client the server ends meanwhile (a database dropped with
 * `FORCE`, a restart) emits an error that would otherwise crash the process.
 */
export async function releasePool(pool: PgPool, owned: boolean, onPoolError: (error: Error) => void): Promise<void> {
  pool.off?.('error', onPoolError)
  if (!owned) return
  pool.on('error', () => {})
  await pool.end().catch(() => {})
}
