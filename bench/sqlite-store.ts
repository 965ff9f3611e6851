/**
 * How many events per second the SQLite store persists through `commit`,
 * against the floor of raw better-sqlite3 writing the same rows.
 *
 *   npx tsx bench/sqlite-store.ts
 *
 * The store side: 200 runs execute at once, each committing ~30 events one
 * commit per event (started, deltas, completed, with run patches on the first
 * and the last), awaiting each commit before the next, as the agent loop does.
 * Between two events a run waits for its next model chunk, which arrives in a
 * callback of its own (`setImmediate`, standing in for the socket).
 * The floor: the same event rows into the same schema, with the same pragmas,
 * one transaction per run, synchronously. Both on fresh files in os.tmpdir().
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { sqliteStore, type SqliteStore } from '../adapters/sqlite/index.js'
import { createId, createTraceId } from '../src/ids.js'
import { createRunRecord } from '../src/run-record.js'
import type { RunEvent } from '../src/events.js'
import type { Run, Session, Store } from '../src/store.js'

/** What {@link benchSqliteStore} measures. */
export interface SqliteStoreBenchResult {
  storeEventsPerSecond: number
  floorEventsPerSecond: number
  /** store / floor: the median of the rounds' ratios. */
  ratio: number
  /** Transactions the store used for the timed part of a round. */
  storeTransactions: number
  /** Events per round. */
  events: number
}

/** Options of {@link benchSqliteStore}. */
export interface SqliteStoreBenchOptions {
  /** Runs executing at once. @default 200 */
  runs?: number
  /** Events per run. @default 30 */
  eventsPerRun?: number
  /** @default 'normal' */
  synchronous?: 'normal' | 'full'
  /** Measured rounds, after one warm-up round; the figures are their medians. @default 7 */
  rounds?: number
}

const now = (): string => new Date().toISOString()
const nextChunk = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A session of the store benchmarks (shared with bench/postgres-store.ts). */
export function makeSession(): Session {
  const time = now()
  return { id: createId('thr'), orgId: 'bench', userId: 'u1', type: 'agent', agent: 'support', title: null, metadata: {}, state: {}, createdBy: null, activeRunId: null, contextSummary: null, createdAt: time, updatedAt: time }
}

/** A run of `session` for the store benchmarks. */
export function makeRun(session: Session): Run {
  const route = { id: 'default', model: 'gpt-4o-mini', providerName: 'openai' }
  return createRunRecord({ ...session, sessionId: session.id, traceId: createTraceId(), personaId: 'support@1', route, input: 'Refund order 42, please.', messageIds: null, createdBy: { userId: 'u1' }, createdAt: now() })
}

/** The events of one run: started, deltas, completed. */
export function eventsOf(run: Run, count: number): RunEvent[] {
  const base = { runId: run.id, sessionId: run.sessionId, createdAt: now() }
  const events: RunEvent[] = [{ ...base, seq: 1, type: 'run.started', data: { persona_id: 'support@1', route_id: 'default', model: 'gpt-4o-mini', model_provider: 'openai' } }]
  for (let seq = 2; seq < count; seq++) events.push({ ...base, seq, type: 'message.delta', data: { content: ' token of text', channel: 'text' } })
  events.push({
    ...base,
    seq: count,
    type: 'run.completed',
    data: {
      content: 'Your order 42 has been refunded.',
      metrics: { input_tokens: 120, output_tokens: 40, total_tokens: 160, cached_input_tokens: 0, reasoning_tokens: 0, time_to_first_token_ms: 200, duration_ms: 900 },
    },
  })
  return events
}

/** Commits a run's events one commit per event, as the agent loop does: a status patch on the first and the last. */
export async function execute(store: Store, run: Run, events: RunEvent[]): Promise<void> {
  const last = events.length - 1
  await store.commit({ run: { id: run.id, patch: { status: 'running', startedAt: now() } }, events: [events[0] as RunEvent] })
  for (let index = 1; index < last; index++) {
    await nextChunk()
    await store.commit({ events: [events[index] as RunEvent] })
  }
  await nextChunk()
  await store.commit({ run: { id: run.id, patch: { status: 'completed', content: 'Your order 42 has been refunded.', completedAt: now() } }, events: [events[last] as RunEvent] })
}

async function prepare(path: string, runs: number, eventsPerRun: number, synchronous: 'normal' | 'full'): Promise<{ store: SqliteStore; work: [Run, RunEvent[]][] }> {
  const store = sqliteStore({ path, synchronous })
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

async function round(directory: string, runs: number, eventsPerRun: number, synchronous: 'normal' | 'full'): Promise<Round> {
  const { store, work } = await prepare(join(directory, 'store.db'), runs, eventsPerRun, synchronous)
  const before = store.statistics.transactions
  const storeStart = performance.now()
  await Promise.all(work.map(([run, events]) => execute(store, run, events)))
  const storeSeconds = (performance.now() - storeStart) / 1000
  const storeTransactions = store.statistics.transactions - before
  await store.close()

  // The floor gets the same schema and parent rows from the store, then writes with a bare connection.
  const floorPath = join(directory, 'floor.db')
  const { store: schemaOnly, work: floorWork } = await prepare(floorPath, runs, eventsPerRun, synchronous)
  await schemaOnly.close()
  const database = new Database(floorPath)
  database.pragma('journal_mode = WAL')
  database.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  const insert = database.prepare('INSERT INTO events (run_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)')
  const writeRun = database.transaction((events: RunEvent[]) => {
    for (const event of events) insert.run(event.runId, event.seq, event.type, JSON.stringify(event.data), event.createdAt)
  })
  const floorStart = performance.now()
  for (const [, events] of floorWork) writeRun(events)
  const floorSeconds = (performance.now() - floorStart) / 1000
  database.close()
  for (const file of ['store.db', 'store.db-wal', 'store.db-shm', 'floor.db', 'floor.db-wal', 'floor.db-shm']) rmSync(join(directory, file), { force: true })
  return { storeSeconds, floorSeconds, storeTransactions }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Measures the store against the raw floor (see the file's comment): medians of `rounds` rounds after a warm-up round. */
export async function benchSqliteStore(options: SqliteStoreBenchOptions = {}): Promise<SqliteStoreBenchResult> {
  const { runs = 200, eventsPerRun = 30, synchronous = 'normal', rounds = 7 } = options
  const directory = mkdtempSync(join(tmpdir(), 'hearth-bench-'))
  try {
    await round(directory, runs, eventsPerRun, synchronous)
    const measured: Round[] = []
    for (let index = 0; index < rounds; index++) measured.push(await round(directory, runs, eventsPerRun, synchronous))
    const events = runs * eventsPerRun
    return {
      storeEventsPerSecond: Math.round(events / median(measured.map((result) => result.storeSeconds))),
      floorEventsPerSecond: Math.round(events / median(measured.map((result) => result.floorSeconds))),
      // Per round, store and floor ran seconds apart, so their ratio is steadier than a ratio of medians on a busy machine.
      ratio: median(measured.map((result) => result.floorSeconds / result.storeSeconds)),
      storeTransactions: median(measured.map((result) => result.storeTransactions)),
      events,
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows: Record<string, string | number>[] = []
  for (const synchronous of ['normal', 'full'] as const) {
    const result = await benchSqliteStore({ synchronous })
    rows.push({
      synchronous,
      'store events/s': result.storeEventsPerSecond,
      'floor events/s': result.floorEventsPerSecond,
      'store / floor': Number(result.ratio.toFixed(2)),
      'store transactions': result.storeTransactions,
      'events per round': result.events,
    })
  }
  console.table(rows)
}
