/**
 * The options of the SQLite store and their validation. Bad options are
 * programming errors, so they throw a `TypeError` at once, naming the option
 * and the value it got.
 */
import type { SqliteDatabase } from './database-types.js'
import { resolveLogger, type Logger } from '../../src/logger.js'

/** Options of {@link sqliteStore}: give either `path` or `database`. */
export interface SqliteStoreOptions {
  /**
   * The database file, created when missing (its directory must exist), or
   * `':memory:'` for a private in-memory database. Give this or `database`.
   */
  path?: string
  /**
   * A better-sqlite3 connection the app already has. The store sets its
   * pragmas (`journal_mode = WAL`, `synchronous`, `busy_timeout`,
   * `foreign_keys = ON`, `temp_store = MEMORY`), creates its tables (`meta`,
   * `sessions`, `runs`, `run_details`, `events`, `owners`) and never closes
   * it. The app must not hold a transaction open across ticks on it. Give
   * this or `path`. Typed structurally ({@link SqliteDatabase}), so the app
   * needs no `@types/better-sqlite3`; the store then loads no better-sqlite3
   * of its own.
   */
  database?: SqliteDatabase
  /**
   * How hard a commit waits for the disk. The journal is always WAL.
   * - `'normal'`: a committed write survives a crash of the process (SIGKILL,
   *   an uncaught error); the last commits before a power loss or an OS crash
   *   may be lost, but the file is never corrupted.
   * - `'full'`: a committed write also survives a power loss or an OS crash,
   *   at the cost of an fsync of the WAL on every transaction (group commit
   *   shares it among the commits of a tick).
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full'
  /**
   * How long a write waits for another connection's lock before it fails
   * with `storage.busy`.
   * @default 5000
   */
  busyTimeoutMs?: number
  /**
   * The store's id (`db_id` of the Agno view). Without it, the store uses an
   * id made on the file's first open and kept in its `meta` table, so it
   * survives a reopen.
   */
  id?: string
  /**
   * How often (ms) `watch` checks whether another connection or process
   * changed the file, while anything watches: one `PRAGMA data_version` read
   * per interval, on an unref'd timer. A runtime watches so that it can tail
   * runs another process executes, and take over runs left to it; this is the
   * delay before it notices.
   * @default 100
   */
  watchIntervalMs?: number
  /**
   * Who copies the WAL back into the database file.
   * - `'background'`: a worker thread with a connection of its own, at most
   *   every 200 ms while the store commits, so no commit waits for it (the
   *   committing connection still checkpoints by itself past 10,000 pages of
   *   WAL, should the worker fall behind). A store that lives under 200 ms
   *   never starts the thread. Falls back to `'inline'` if the thread cannot
   *   start; in-memory databases are always `'inline'`.
   * - `'inline'`: SQLite's automatic checkpoint, inside the commit that takes
   *   the WAL past 1000 pages.
   * @default 'background'
   */
  checkpoint?: 'background' | 'inline'
  /** Where the store reports what it cannot throw to a caller (a `watch` listener that threw). @default consoleLogger */
  logger?: Logger
}

/** The options once checked, with their defaults. */
export interface ResolvedSqliteStoreOptions {
  path: string | undefined
  database: SqliteDatabase | undefined
  synchronous: 'normal' | 'full'
  busyTimeoutMs: number
  id: string | undefined
  watchIntervalMs: number
  checkpoint: 'background' | 'inline'
  logger: Logger
}

/** How a value reads in an error message: `42`, `'db'`, `null`, `[object Object]`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Checks `options` and fills in the defaults; throws a `TypeError` naming the first bad option. */
export function resolveOptions(options: unknown): ResolvedSqliteStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` to be an object with \`path\` or \`database\`, got \`${describeValue(options)}\``)
  }
  const { path, database, synchronous = 'normal', busyTimeoutMs = 5000, id, watchIntervalMs = 100, checkpoint = 'background' } = options as Record<string, unknown>
  if (path === undefined && database === undefined) {
    throw new TypeError('Expected `path` or `database` to be given, got neither')
  }
  if (path !== undefined && database !== undefined) {
    throw new TypeError('Expected only one of `path` and `database`, got both')
  }
  if (path !== undefined && (typeof path !== 'string' || path.trim() === '')) {
    throw new TypeError(`Expected \`path\` to be a non-empty string, got \`${describeValue(path)}\``)
  }
  if (database !== undefined && !isDatabase(database)) {
    throw new TypeError(`Expected \`database\` to be a better-sqlite3 Database, got \`${describeValue(database)}\``)
  }
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw new TypeError(`Expected \`synchronous\` to be 'normal' or 'full', got \`${describeValue(synchronous)}\``)
  }
  if (typeof busyTimeoutMs !== 'number' || !Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 0x7fffffff) {
    throw new TypeError(`Expected \`busyTimeoutMs\` to be an integer from 0 to 2147483647, got \`${describeValue(busyTimeoutMs)}\``)
  }
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    throw new TypeError(`Expected \`id\` to be a non-empty string, got \`${describeValue(id)}\``)
  }
  if (typeof watchIntervalMs !== 'number' || !Number.isInteger(watchIntervalMs) || watchIntervalMs < 1 || watchIntervalMs > 0x7fffffff) {
    throw new TypeError(`Expected \`watchIntervalMs\` to be an integer from 1 to 2147483647, got \`${describeValue(watchIntervalMs)}\``)
  }
  if (checkpoint !== 'background' && checkpoint !== 'inline') {
    throw new TypeError(`Expected \`checkpoint\` to be 'background' or 'inline', got \`${describeValue(checkpoint)}\``)
  }
  return {
    path: path as string | undefined,
    database: database as SqliteDatabase | undefined,
    synchronous,
    busyTimeoutMs,
    id: id as string | undefined,
    watchIntervalMs,
    checkpoint,
    logger: resolveLogger((options as Record<string, unknown>).logger),
  }
}

function isDatabase(value: unknown): value is SqliteDatabase {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return typeof candidate.prepare === 'function' && typeof candidate.pragma === 'function' && typeof candidate.exec === 'function'
}
