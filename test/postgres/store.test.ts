/**
 * What the PostgreSQL store does beyond the Store contract: its options,
 * opening (an unreachable server, a newer schema, replicas migrating at
 * once), the group commit (one transaction per batch, a bad commit rejected
 * alone, a connection lost at COMMIT rejecting the batch and showing nothing),
 * and watching other store objects' commits.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { postgresStore, type PgPool, type PostgresStore } from '../../adapters/postgres/index.js'
import { postgresSchemaVersion } from '../../adapters/postgres/migrations.js'
import { silentLogger } from '../../src/index.js'
import type { RunEvent } from '../../src/events.js'
import type { Run, Session } from '../../src/store.js'
import { makeDelta, makeRun, makeSession } from '../../src/testing/contracts/store-fixtures.js'
import { postgresReachable, testDatabase } from './pg-server.js'

const reachable = await postgresReachable()
const url = reachable ? await testDatabase('store') : ''
let schemas = 0

async function openStore(options: Parameters<typeof postgresStore>[1] = {}): Promise<PostgresStore> {
  const store = postgresStore({ connectionString: url }, { schema: `store_${++schemas}`, logger: silentLogger, ...options })
  await store.open()
  return store
}

async function runsOf(store: PostgresStore, count: number): Promise<{ session: Session; runs: Run[] }> {
  const session = makeSession()
  await store.insertSession(session)
  const runs: Run[] = []
  for (let index = 0; index < count; index++) {
    const run = makeRun(session)
    await store.commit({ insertRun: run })
    runs.push(run)
  }
  return { session, runs }
}

describe('postgresStore options', () => {
  it('names the bad option', () => {
    const connect = { connectionString: 'postgres://127.0.0.1/x' }
    expect(() => postgresStore(undefined as never)).toThrow(/connection to be an object/)
    expect(() => postgresStore({} as never)).toThrow(/`connectionString` or `pool`/)
    expect(() => postgresStore({ connectionString: 'postgres://a', pool: {} } as never)).toThrow(/only one of/)
    expect(() => postgresStore({ connectionString: ' ' })).toThrow(/`connectionString` to be a non-empty string/)
    expect(() => postgresStore({ pool: { query: 1 } as never })).toThrow(/`pool` to be a pg Pool/)
    expect(() => postgresStore(connect, { schema: 'hearth; DROP TABLE x' })).toThrow(/`schema` to be an identifier/)
    expect(() => postgresStore(connect, { channel: 'a b' })).toThrow(/`channel` to be an identifier/)
    expect(() => postgresStore(connect, { poolSize: 1 })).toThrow(/`poolSize` to be an integer from 2/)
    expect(() => postgresStore(connect, { id: '' })).toThrow(/`id` to be a non-empty string/)
    expect(() => postgresStore(connect, { maxReconnectDelayMs: 0 })).toThrow(/maxReconnectDelayMs/)
    expect(() => postgresStore(connect, { listenConnectionString: '' })).toThrow(/listenConnectionString/)
    expect(() => postgresStore(connect, { idleInTransactionTimeoutMs: 1.5 })).toThrow(/idleInTransactionTimeoutMs/)
    expect(postgresStore(connect).channel).toBe('hearth_changes')
    expect(postgresStore(connect, { schema: 'tenant_a' }).channel).toBe('tenant_a_changes')
  })
})

describe.skipIf(!reachable)('the PostgreSQL store', () => {
  it('fails to open an unreachable server with storage.busy, and stays closed', async () => {
    const store = postgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' }, { logger: silentLogger })
    await expect(store.open()).rejects.toMatchObject({ code: 'storage.busy', message: expect.stringMatching(/Cannot open the PostgreSQL schema hearth: .*ECONNREFUSED/) })
    await expect(store.getSession('thr_x')).rejects.toMatchObject({ code: 'storage.failed', message: expect.stringMatching(/not open/) })
    expect(() => store.id).toThrow(/after open\(\) resolves/)
  })

  it('refuses a schema newer than it knows, and changes nothing', async () => {
    const store = await openStore()
    const schema = `store_${schemas}`
    await store.close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(`UPDATE "${schema}".meta SET value = '99' WHERE key = 'schema_version'`)
      const again = postgresStore({ connectionString: url }, { schema, logger: silentLogger })
      await expect(again.open()).rejects.toMatchObject({ code: 'storage.newer_schema', details: { schemaVersion: 99, knownVersion: postgresSchemaVersion } })
      expect((await client.query(`SELECT value FROM "${schema}".meta WHERE key = 'schema_version'`)).rows[0].value).toBe('99')
    } finally {
      await client.end()
    }
  })

  it('migrates once when several replicas open a new schema at once, and gives them one id', async () => {
    const schema = `store_${++schemas}`
    const stores = Array.from({ length: 4 }, () => postgresStore({ connectionString: url }, { schema, logger: silentLogger }))
    await Promise.all(stores.map((store) => store.open()))
    expect(new Set(stores.map((store) => store.id)).size).toBe(1)
    await Promise.all(stores.map((store) => store.close()))
  })

  it('commits a tick’s commits in one transaction and rejects a bad one alone', async () => {
    const store = await openStore()
    try {
      const { runs } = await runsOf(store, 40)
      const before = store.statistics.transactions
      const commits: Promise<void>[] = []
      for (const run of runs) commits.push(store.commit({ events: [makeDelta(run, 1), makeDelta(run, 2)] }))
      const gap = runs[0] as Run
      // A gap, a missing run, and a patch of a missing run: each fails alone.
      const bad = [
        store.commit({ events: [makeDelta(gap, 5)] }),
        store.commit({ events: [{ ...makeDelta(gap, 1), runId: 'run_missing' }] }),
        store.commit({ run: { id: 'run_missing', patch: { status: 'running' } } }),
      ]
      await Promise.all(commits)
      expect(await Promise.allSettled(bad)).toMatchObject([
        { status: 'rejected', reason: { code: 'storage.conflict' } },
        { status: 'rejected', reason: { code: 'storage.failed', message: expect.stringMatching(/run_missing does not exist/) } },
        { status: 'rejected', reason: { code: 'storage.failed', message: expect.stringMatching(/run_missing does not exist/) } },
      ])
      expect(store.statistics.transactions - before).toBeLessThanOrEqual(2)
      for (const run of runs) expect((await store.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2])
      expect((await store.getRun(gap.id))?.lastSeq).toBe(2)
    } finally {
      await store.close()
    }
  })

  it('writes two commits of one run in one batch in order', async () => {
    const store = await openStore()
    try {
      const { runs } = await runsOf(store, 1)
      const run = runs[0] as Run
      await Promise.all([store.commit({ events: [makeDelta(run, 1)] }), store.commit({ events: [makeDelta(run, 2), makeDelta(run, 3)] })])
      expect((await store.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2, 3])
    } finally {
      await store.close()
    }
  })

  it('rejects a whole batch whose connection dies at COMMIT, shows none of it, and commits again after', async () => {
    const pool = new pg.Pool({ connectionString: url })
    // The app's own pool: its idle clients' errors are the app's to take (here: the database dropped at the end).
    pool.on('error', () => {})
    let killAtCommit = false
    // The app's pool, with a connection that the server drops just as the batch commits.
    const dying: PgPool = {
      query: ((text: string, values?: readonly unknown[]) => pool.query(text, values as unknown[])) as never,
      end: () => pool.end(),
      on: (event, listener) => pool.on(event, listener),
      async connect() {
        const client = await pool.connect()
        return {
          release: (error?: Error | boolean) => client.release(error),
          on: (event: 'error', listener: (error: Error) => void) => client.on(event, listener),
          off: (event: 'error', listener: (error: Error) => void) => client.off(event, listener),
          async query(text: string, values?: readonly unknown[]) {
            if (text === 'COMMIT' && killAtCommit) await client.query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => {})
            return client.query(text, values as unknown[])
          },
        } as never
      },
    }
    const store = postgresStore({ pool: dying }, { schema: `store_${++schemas}`, logger: silentLogger })
    await store.open()
    try {
      const { runs } = await runsOf(store, 3)
      killAtCommit = true
      const results = await Promise.allSettled(runs.map((run) => store.commit({ events: [makeDelta(run, 1)] })))
      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected'])
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'storage.busy' })
      for (const run of runs) {
        expect(await store.readEvents(run.id, 0, 10)).toEqual([])
        expect((await store.getRun(run.id))?.lastSeq).toBe(0)
      }
      killAtCommit = false
      await Promise.all(runs.map((run) => store.commit({ events: [makeDelta(run, 1)] })))
      for (const run of runs) expect((await store.readEvents(run.id, 0, 10)).map((event: RunEvent) => event.seq)).toEqual([1])
    } finally {
      await store.close()
      await pool.end()
    }
  })

  it('tells its watchers of other store objects’ commits, never of its own', async () => {
    const schema = `store_${++schemas}`
    const mine = postgresStore({ connectionString: url }, { schema, logger: silentLogger })
    const theirs = postgresStore({ connectionString: url }, { schema, logger: silentLogger })
    await mine.open()
    await theirs.open()
    try {
      let calls = 0
      const named: (readonly string[] | undefined)[] = []
      const stop = mine.watch((runIds) => {
        calls++
        named.push(runIds)
      })
      for (let wait = 0; !mine.listening && wait < 500; wait++) await new Promise((resolve) => setTimeout(resolve, 10))
      const { runs } = await runsOf(mine, 1)
      await mine.commit({ events: [makeDelta(runs[0] as Run, 1)] })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(calls).toBe(0)
      await theirs.commit({ events: [makeDelta(runs[0] as Run, 2)] })
      for (let wait = 0; calls === 0 && wait < 500; wait++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(calls).toBeGreaterThan(0)
      // A commit names the runs it wrote; a change that is not a run's (an owner, a control request) names none.
      expect(named).toEqual([[(runs[0] as Run).id]])
      await theirs.registerOwner({ id: 'own_x', pid: 1, host: 'h', startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString() })
      for (let wait = 0; calls === 1 && wait < 500; wait++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(named.at(-1)).toBeUndefined()
      stop()
      const seen = calls
      await theirs.commit({ events: [makeDelta(runs[0] as Run, 3)] })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(calls).toBe(seen)
      expect(() => mine.watch(1 as never)).toThrow(TypeError)
    } finally {
      await mine.close()
      await theirs.close()
    }
  })
})
