/**
 * hearth-runtime/postgres: the Store kept in PostgreSQL, through `pg`, an
 * optional peer that `open()` loads (importing this module does not). Any
 * number of runtime processes on any number of hosts may share one database.
 *
 *   import { postgresStore } from 'hearth-runtime/postgres'
 *   const runtime = await Runtime.open({ store: postgresStore({ connectionString: process.env.DATABASE_URL }) })
 */
export { PostgresStore, postgresStore } from './postgres-store.js'
export type { PostgresConnection, PostgresStoreOptions } from './options.js'
export type { PgClient, PgModule, PgNotification, PgPool, PgPoolClient, PgQueryable, PgQueryResult } from './pg-types.js'
export type { PostgresGroupCommitStatistics } from './group-commit.js'
export { postgresSchemaVersion } from './migrations.js'
