/**
 * Opening a SQLite database for the store: better-sqlite3 (imported here, when
 * a `path` is first opened), the connection, its pragmas and the migrations.
 * A better-sqlite3 that is not installed fails with `dependency.missing`;
 * every other failure becomes a `StorageError` naming the file. A connection
 * this code opened is closed again before the error leaves, so there is never
 * a half-open store.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { StorageError } from '../../src/errors.js'
import { loadPeer } from '../../src/optional-peer.js'
import type { SqliteDatabase, SqliteDatabaseConstructor } from './database-types.js'
import { migrate } from './migrations.js'
import type { ResolvedSqliteStoreOptions } from './options.js'
import { sqliteCodeOf, toStorageError } from './storage-errors.js'

/** An open, migrated connection. */
export interface OpenDatabase {
  database: SqliteDatabase
  /** True when the store opened it (and so closes it). */
  owned: boolean
  /** The store's id: the option, else the one kept in the file. */
  id: string
}

/** How the store names its database in messages. */
export function databaseName(options: ResolvedSqliteStoreOptions): string {
  if (options.path !== undefined) return options.path === ':memory:' ? 'the in-memory SQLite database' : `the SQLite database at ${options.path}`
  return `the SQLite database ${options.database?.name ?? ''}`.trimEnd()
}

/** better-sqlite3's `Database` class, imported on first use; rejects with `dependency.missing` when it is not installed. */
export async function loadDriver(): Promise<SqliteDatabaseConstructor> {
  const driver = await loadPeer<{ default: SqliteDatabaseConstructor }>('better-sqlite3', { subpath: 'hearth-runtime/sqlite', install: 'better-sqlite3@12' })
  return driver.default
}

/** Opens (or adopts), configures and migrates the database. An adopted connection needs no better-sqlite3 of ours. */
export async function openDatabase(options: ResolvedSqliteStoreOptions): Promise<OpenDatabase> {
  const name = databaseName(options)
  const owned = options.database === undefined
  const database = options.database ?? connect(await loadDriver(), options.path as string, options.busyTimeoutMs, name)
  try {
    if (!database.open) throw new StorageError('storage.failed', `Cannot open ${name}: the connection passed as \`database\` is closed`)
    if (database.inTransaction) throw new StorageError('storage.failed', `Cannot open ${name}: the connection passed as \`database\` is inside a transaction`)
    // busy_timeout first, so that every later step waits for a lock instead of failing at once.
    database.pragma(`busy_timeout = ${options.busyTimeoutMs}`)
    // Only an empty file can take auto_vacuum, and only before WAL writes its first page: a file made
    // here can then give the space of pruned runs back to the OS (see prune.ts). Older files keep theirs.
    if (database.pragma('page_count', { simple: true }) === 0) database.pragma('auto_vacuum = INCREMENTAL')
    const journalMode = database.pragma('journal_mode = WAL', { simple: true })
    if (journalMode !== 'wal' && journalMode !== 'memory') {
      throw new StorageError('storage.failed', `Cannot open ${name}: it cannot use the WAL journal (journal_mode is ${String(journalMode)})`)
    }
    database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    database.pragma('foreign_keys = ON')
    // Each commit of a group runs in a savepoint. SQLite journals a savepoint's pages in memory up to
    // 64 KiB, then in a temporary file, which a busy group outgrows: kept in memory, 200 concurrent
    // runtime runs went ~25% faster (bench/sqlite-runtime.ts).
    database.pragma('temp_store = MEMORY')
    migrate(database, undefined, name[0]?.toUpperCase() + name.slice(1))
    return { database, owned, id: options.id ?? readStoreId(database, name) }
  } catch (error) {
    const readonly = database.open && database.readonly
    if (owned && database.open) database.close()
    throw describeOpenError(error, name, readonly)
  }
}

function connect(Database: SqliteDatabaseConstructor, path: string, busyTimeoutMs: number, name: string): SqliteDatabase {
  if (path !== ':memory:' && !path.startsWith('file:')) {
    const directory = dirname(resolve(path))
    if (!existsSync(directory)) {
      throw new StorageError('storage.failed', `Cannot open ${name}: the directory ${directory} does not exist`)
    }
    if (existsSync(path) && statSync(path).isDirectory()) {
      throw new StorageError('storage.failed', `Cannot open ${name}: it is a directory, not a file`)
    }
  }
  try {
    return new Database(path, { timeout: busyTimeoutMs })
  } catch (error) {
    throw describeOpenError(error, name, false)
  }
}

function readStoreId(database: SqliteDatabase, name: string): string {
  const row = database.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string } | undefined
  if (row === undefined || row.value === '') throw new StorageError('storage.corrupt', `${name} has no store id in its meta table`)
  return row.value
}

function describeOpenError(error: unknown, name: string, readonly: boolean): StorageError {
  if (error instanceof StorageError) return error
  const code = sqliteCodeOf(error)
  if (code === 'SQLITE_NOTADB') return new StorageError('storage.corrupt', `Cannot open ${name}: the file is not a SQLite database (${code})`, { cause: error })
  if (code?.startsWith('SQLITE_READONLY') || readonly) {
    return new StorageError('storage.failed', `Cannot open ${name}: the file or its directory is read-only, and the store needs to write (${code ?? 'readonly'})`, {
      cause: error,
    })
  }
  if (code?.startsWith('SQLITE_CANTOPEN')) {
    return new StorageError('storage.failed', `Cannot open ${name}: SQLite cannot open the file or create its -wal and -shm files beside it (${code})`, { cause: error })
  }
  return toStorageError(error, `Cannot open ${name}`)
}
