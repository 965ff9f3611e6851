/**
 * hearth-runtime/sqlite: the Store kept in a SQLite file, through better-sqlite3,
 * an optional peer that `open()` loads (importing this module does not).
 *
 *   import { sqliteStore } from 'hearth-runtime/sqlite'
 *   const runtime = await Runtime.open({ store: sqliteStore({ path: 'agents.db' }) })
 */
export { SqliteStore, sqliteStore } from './sqlite-store.js'
export type { SqliteStoreOptions } from './options.js'
export type { SqliteDatabase, SqliteRunResult, SqliteStatement } from './database-types.js'
export type { GroupCommitStatistics } from './group-commit.js'
export { schemaVersion } from './migrations.js'
