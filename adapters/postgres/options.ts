/**
 * The options of the PostgreSQL store and their validation. Bad options are
 * programming errors, so they throw a `TypeError` at once, naming the option
 * and the value it got.
 */
import { resolveLogger, type Logger } from '../../src/logger.js'
import type { PgPool } from './pg-types.js'

/** Where the store's data lives: a connection string (the store makes and ends its pool), or a pool the app owns. */
export type PostgresConnection =
  | {
      /** `postgres://user:password@host:5432/database`: the store makes a `pg.Pool` of its own and ends it on `close()`. */
      connectionString: string
    }
  | {
      /**
       * A `pg.Pool` the app already has. The store never ends it. Typed
       * structurally ({@link PgPool}), so the app needs no `@types/pg`.
       */
      pool: PgPool
    }

/** Options of {@link postgresStore}, after the connection. */
export interface PostgresStoreOptions {
  /**
   * The connection that `LISTEN`s for other processes' commits. It must be a
   * direct connection to the server (or a PgBouncer in session mode): PgBouncer
   * in transaction mode does not carry notifications. Without it, the store
   * opens one on `connectionString`, or, given only a `pool`, checks one client
   * out of the pool and keeps it.
   */
  listenConnectionString?: string
  /**
   * The schema that holds the store's tables (created when missing), so that
   * they never meet the app's own. Several stores may share a database, one
   * per schema.
   * @default 'hearth'
   */
  schema?: string
  /**
   * The channel the store's commits are announced on (`NOTIFY`) and that it
   * listens to.
   * @default `${schema}_changes` ('hearth_changes')
   */
  channel?: string
  /**
   * The store's id (`db_id` of the Agno view). Without it, the store uses the
   * id made when the schema was created and kept in its `meta` table, so every
   * replica on the database reports the same one.
   */
  id?: string
  /**
   * The size of the pool the store makes from `connectionString` (ignored
   * with `pool`). Commits of one process go out in one transaction at a time,
   * so a few connections serve a runtime; reads use the rest.
   * @default 10
   */
  poolSize?: number
  /**
   * The longest wait (ms) between attempts to reconnect the listening
   * connection after it was lost (a server restart): the wait starts at 100 ms
   * and doubles up to this.
   * @default 5000
   */
  maxReconnectDelayMs?: number
  /**
   * How long (ms) the server lets a transaction of this store sit idle
   * before it ends the session. A transaction idles when its process stops
   * in the middle of it (a long GC pause, a SIGSTOP, a partition), and until
   * it ends, the rows it locked stay locked: the runs it was writing cannot
   * be taken over. Keep it at or below the runtime's `leaseMs`, so that the
   * locks are gone by the time the lease says the owner is dead. The store's
   * own transactions never idle: they send their statements back to back.
   * @default 5000
   */
  idleInTransactionTimeoutMs?: number
  /** Where the store reports what it cannot throw to a caller (a lost listening connection, a `watch` listener that threw). @default consoleLogger */
  logger?: Logger
}

/** The options once checked, with their defaults. */
export interface ResolvedPostgresStoreOptions {
  connectionString: string | undefined
  pool: PgPool | undefined
  listenConnectionString: string | undefined
  schema: string
  channel: string
  id: string | undefined
  poolSize: number
  maxReconnectDelayMs: number
  idleInTransactionTimeoutMs: number
  logger: Logger
}

/** How a value reads in an error message: `42`, `'db'`, `null`, `[object Object]`. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

// Plain identifiers only: they are spliced into SQL (quoted), and a channel name must match LISTEN's.
const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Checks the connection and `options` and fills in the defaults; throws a `TypeError` naming the first bad one. */
export function resolveOptions(connection: unknown, options: unknown = {}): ResolvedPostgresStoreOptions {
  if (typeof connection !== 'object' || connection === null) {
    throw new TypeError(`Expected the connection to be an object with \`connectionString\` or \`pool\`, got \`${describeValue(connection)}\``)
  }
  const { connectionString, pool } = connection as Record<string, unknown>
  if (connectionString === undefined && pool === undefined) throw new TypeError('Expected `connectionString` or `pool` to be given, got neither')
  if (connectionString !== undefined && pool !== undefined) throw new TypeError('Expected only one of `connectionString` and `pool`, got both')
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString.trim() === '')) {
    throw new TypeError(`Expected \`connectionString\` to be a non-empty string, got \`${describeValue(connectionString)}\``)
  }
  if (pool !== undefined && !isPool(pool)) throw new TypeError(`Expected \`pool\` to be a pg Pool, got \`${describeValue(pool)}\``)
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got \`${describeValue(options)}\``)
  const { listenConnectionString, schema = 'hearth', channel, id, poolSize = 10, maxReconnectDelayMs = 5000, idleInTransactionTimeoutMs = 5000 } = options as Record<string, unknown>
  if (listenConnectionString !== undefined && (typeof listenConnectionString !== 'string' || listenConnectionString.trim() === '')) {
    throw new TypeError(`Expected \`listenConnectionString\` to be a non-empty string, got \`${describeValue(listenConnectionString)}\``)
  }
  if (typeof schema !== 'string' || !identifier.test(schema)) {
    throw new TypeError(`Expected \`schema\` to be an identifier (letters, digits and _, at most 63), got \`${describeValue(schema)}\``)
  }
  const resolvedChannel = channel ?? `${schema}_changes`
  if (typeof resolvedChannel !== 'string' || !identifier.test(resolvedChannel)) {
    throw new TypeError(`Expected \`channel\` to be an identifier (letters, digits and _, at most 63), got \`${describeValue(channel)}\``)
  }
  if (id !== undefined && (typeof id !== 'string' || id === '')) throw new TypeError(`Expected \`id\` to be a non-empty string, got \`${describeValue(id)}\``)
  if (typeof poolSize !== 'number' || !Number.isInteger(poolSize) || poolSize < 2 || poolSize > 1000) {
    throw new TypeError(`Expected \`poolSize\` to be an integer from 2 to 1000, got \`${describeValue(poolSize)}\``)
  }
  if (typeof maxReconnectDelayMs !== 'number' || !Number.isInteger(maxReconnectDelayMs) || maxReconnectDelayMs < 1 || maxReconnectDelayMs > 0x7fffffff) {
    throw new TypeError(`Expected \`maxReconnectDelayMs\` to be an integer from 1 to 2147483647, got \`${describeValue(maxReconnectDelayMs)}\``)
  }
  if (typeof idleInTransactionTimeoutMs !== 'number' || !Number.isInteger(idleInTransactionTimeoutMs) || idleInTransactionTimeoutMs < 1 || idleInTransactionTimeoutMs > 0x7fffffff) {
    throw new TypeError(`Expected \`idleInTransactionTimeoutMs\` to be an integer from 1 to 2147483647, got \`${describeValue(idleInTransactionTimeoutMs)}\``)
  }
  return {
    connectionString: connectionString as string | undefined,
    pool: pool as PgPool | undefined,
    listenConnectionString: listenConnectionString as string | undefined,
    schema,
    channel: resolvedChannel,
    id: id as string | undefined,
    poolSize,
    maxReconnectDelayMs,
    idleInTransactionTimeoutMs,
    logger: resolveLogger((options as Record<string, unknown>).logger),
  }
}

function isPool(value: unknown): value is PgPool {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return typeof candidate.query === 'function' && typeof candidate.connect === 'function' && typeof candidate.end === 'function'
}
