/**
 * How many events per second the PostgreSQL store persists through
 * `commit`, against the floor of raw `pg` writing the same rows in the same
 * transaction pattern.
 *
 *   npx tsx bench/postgres-store.ts      (HEARTH_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 *
 * The store side: as bench/sqlite-store.ts, 200 runs execute at once, each
 * committing ~30 events one commit per event (with run patches on the first
 * and the last), awaiting each commit before the next, the next chunk
 * arriving in a callback of its own. The floor: raw `pg` on one connection,
 * the pattern the store's group commit reaches at best: per step, one
 * transaction that advances all 200 runs' seqs in one UPDATE and inserts
 * their 200 events in one INSERT, the same rows into the same schema. Both on
 * fresh schemas of a database made for the run and dropped after.
 */
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { postgresStore, type PostgresStore } from '../adapters/postgres/index.js'
import type { RunEvent } from '../src/events.js'
import type { Run } from '../src/store.js'
import { eventsOf, execute, makeRun, makeSession } from './sqlite-store.js'

/** The server the Postgres benchmarks use. */
export const benchPgUrl = process.env.HEARTH_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** What {@link benchPostgresStore} measures. */
export interface PostgresStoreBenchResult {
  storeEventsPerSecond: number
  floorEventsPerSecond: number
  /** store / floor: the median of the rounds' ratios (target: at least 1/3). */
  ratio: number
  /** Transactions the store used for the timed part of a round. */
  storeTransactions: number
  events: number
}

async function prepare(url: string, schema: string, runs: number, eventsPerRun: number): Promise<{ store: PostgresStore; work: [Run, RunEvent[]][] }> {
  const store = postgresStore({ connectionString: url }, { schema })
  await store.open()
  const work: [Run, RunEvent[]][] = []
  const inserts: Promise<void>[] = []
  for (let index = 0; index < runs; index++) {
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session)
    inserts.push(store.commit({ insertRun: run }))
    work.push([run, eventsOf(run, eventsPerRun)])
  }
  await Promise.all(inserts)
  return { store, work }
}

interface Round {
  storeSeconds: number
  floorSeconds: number
  storeTransactions: number
}

let schemas = 0

async function round(url: string, runs: number, eventsPerRun: number): Promise<Round> {
  const { store, work } = await prepare(url, `bench_store_${++schemas}`, runs, eventsPerRun)
  const before = store.statistics.transactions
  const storeStart = performance.now()
  await Promise.all(work.map(([run, events]) => execute(store, run, events)))
  const storeSeconds = (performance.now() - storeStart) / 1000
  const storeTransactions = store.statistics.transactions - before
  await store.close()

  const schema = `bench_floor_${schemas}`
  const { store: schemaOnly, work: floorWork } = await prepare(url, schema, runs, eventsPerRun)
  await schemaOnly.close()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const advance = `UPDATE "${schema}".runs r SET last_seq = v.last FROM unnest($1::text[], $2::int[]) AS v(id, last) WHERE r.id = v.id`
  const insert = `INSERT INTO "${schema}".events (run_id, seq, type, data, created_at) SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])`
  const floorStart = performance.now()
  for (let step = 0; step < eventsPerRun; step++) {
    const ids: string[] = []
    const seqs: number[] = []
    const types: string[] = []
    const data: string[] = []
    const times: string[] = []
    for (const [run, events] of floorWork) {
      const event = events[step] as RunEvent
      ids.push(run.id)
      seqs.push(event.seq)
      types.push(event.type)
      data.push(JSON.stringify(event.data))
      times.push(event.createdAt)
    }
    await client.query('BEGIN')
    await client.query(advance, [ids, seqs])
    await client.query(insert, [ids, seqs, types, data, times])
    await client.query('COMMIT')
  }
  const floorSeconds = (performance.now() - floorStart) / 1000
  await client.end()
  return { storeSeconds, floorSeconds, storeTransactions }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Makes a database for one benchmark, runs `work` on its URL, drops it. */
export async function withBenchDatabase<T>(work: (url: string) => Promise<T>, label = 'bench'): Promise<T> {
  const name = `hearth_${label}_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: benchPgUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  try {
    const url = new URL(benchPgUrl)
    url.pathname = `/${name}`
    return await work(url.toString())
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.end()
  }
}

/** True when the benchmarks' server answers. */
export async function benchPgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: benchPgUrl, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/** Measures the store against the raw floor: medians of `rounds` rounds after a warm-up round. */
export async function benchPostgresStore(options: { runs?: number; eventsPerRun?: number; rounds?: number } = {}): Promise<PostgresStoreBenchResult> {
  const { runs = 200, eventsPerRun = 30, rounds = 5 } = options
  return withBenchDatabase(async (url) => {
    await round(url, runs, eventsPerRun)
    const measured: Round[] = []
    for (let index = 0; index < rounds; index++) measured.push(await round(url, runs, eventsPerRun))
    const events = runs * eventsPerRun
    return {
      storeEventsPerSecond: Math.round(events / median(measured.map((result) => result.storeSeconds))),
      floorEventsPerSecond: Math.round(events / median(measured.map((result) => result.floorSeconds))),
      ratio: median(measured.map((result) => result.floorSeconds / result.storeSeconds)),
      storeTransactions: median(measured.map((result) => result.storeTransactions)),
      events,
    }
  }, 'bench_store')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchPostgresStore()
  console.table([
    {
      'store events/s': result.storeEventsPerSecond,
      'floor events/s': result.floorEventsPerSecond,
      'store / floor': Number(result.ratio.toFixed(2)),
      'store transactions': result.storeTransactions,
      'events per round': result.events,
    },
  ])
}
