/**
 * The PostgreSQL server of the Postgres tests: `HEARTH_TEST_PG_URL`
 * (default `postgres://postgres@127.0.0.1:5432/postgres`). Each test file
 * makes a database of its own and drops it at the end. Where no server is
 * reachable, the files skip with one clear line, except under `CI=true`,
 * where that is a failure (CI must run them).
 */
import pg from 'pg'
import { afterAll } from 'vitest'

/** The server's admin URL. */
export const adminUrl = process.env.HEARTH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

let reachable: Promise<boolean> | undefined

/** True when the server answers; under `CI=true`, throws when it does not. Warns once otherwise. */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      if (process.env.CI === 'true') throw new Error(`PostgreSQL is not reachable at ${adminUrl} (${reason}), and under CI=true the Postgres tests must run`)
      console.warn(`Skipping the PostgreSQL tests: no server at ${adminUrl} (${reason}); set HEARTH_TEST_PG_URL or start one`)
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return reachable
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/**
 * Creates a database for this test file and registers its drop after the
 * file's tests. Returns its URL.
 */
export async function testDatabase(label: string): Promise<string> {
  const name = `hearth_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Math.floor(Math.random() * 1e9)}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  afterAll(async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    } finally {
      await client.end()
    }
  })
  return withDatabase(adminUrl, name)
}
