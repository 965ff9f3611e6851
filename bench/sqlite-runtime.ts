/**
 * The runtime on SQLite: scenarios (a), (b) and (c) of bench/core.ts with
 * `sqliteStore({ path })` on a fresh temporary file, beside the same
 * scenarios on the memory store, their rounds alternated in one process run
 * (medians of 7 after 3 warm-up rounds each), so both see the same machine; the events
 * per second that 200 concurrent runtime runs persist, beside the raw
 * better-sqlite3 floor of bench/sqlite-store.ts; and, for (a) and (b), that
 * floor one run at a time: raw better-sqlite3 writing each run's events in
 * one transaction, one run after another, beside the memory-backed runtime.
 *
 *   node --expose-gc --import tsx bench/sqlite-runtime.ts
 *
 * Targets: SQLite-backed runs/s within 3x of memory-backed runs/s at the same
 * concurrency; persisted events/s at least a third of the raw floor.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { sqliteStore } from '../adapters/sqlite/index.js'
import { memoryStore, type Store } from '../src/index.js'
import type { Runtime } from '../src/index.js'
import { alternate, hearthRun, measure, openBenchRuntime, scenarios, time, type Timing } from './core.js'
import { benchSqliteStore } from './sqlite-store.js'

/** One scenario on both stores. */
export interface SqliteRuntimeRow {
  name: string
  sqliteRunsPerSecond: number
  memoryRunsPerSecond: number
  /** memory / sqlite: how many times slower the runtime is on SQLite (target: at most 3). */
  slowdown: number
  /**
   * Sequential scenarios only: raw better-sqlite3 writing the same events,
   * one transaction per run, one run after another (the least a durable run
   * can cost here), in runs/s, and memory runtime / that floor.
   */
  rawFloorRunsPerSecond?: number
  rawFloorSlowdown?: number
}

/** What {@link benchSqliteRuntime} measures. */
export interface SqliteRuntimeBenchResult {
  rows: SqliteRuntimeRow[]
  /** Events per run of scenario (b), the run of (c). */
  eventsPerRun: number
  /** Events persisted per second by the 200 concurrent runs of (c) on SQLite. */
  runtimeEventsPerSecond: number
  /** Raw better-sqlite3 writing the same number of events (bench/sqlite-store.ts). */
  floorEventsPerSecond: number
  /** runtime / floor (target: at least 1/3). */
  floorShare: number
}

/** Options of {@link benchSqliteRuntime}. */
export interface SqliteRuntimeBenchOptions {
  /** Runs of (a) per round. @default 500 */
  chatRuns?: number
  /** Runs of (b) per round. @default 300 */
  toolRuns?: number
  /** Runs of (c) started at once. @default 200 */
  concurrentRuns?: number
  /** Sessions the runs of (c) spread over. @default 50 */
  sessions?: number
  /** `synchronous` of the SQLite files. @default 'normal' */
  synchronous?: 'normal' | 'full'
  /** Measured rounds per store, alternated, after three warm-up rounds each. @default 7 */
  rounds?: number
}

const rate = (runs: number, timing: Timing): number => (runs / timing.wallMs) * 1000

// Unmeasured rounds of each store first: V8 keeps optimizing these paths for several rounds, and the
// memory store's rounds, bound by JavaScript alone, gain the most from it (measured: ~7,000 runs/s of
// (c) in the first rounds, ~13,000 by the sixth).
const warmups = 3

/** The events one run of `script` appends. */
async function eventsOf(name: 'chat' | 'tools'): Promise<number> {
  const runtime = await openBenchRuntime(scenarios[name], memoryStore())
  const session = await runtime.createSession()
  const run = await runtime.createRun(session.id, { input: 'go' })
  await run.result()
  const count = (await runtime.getRun(run.id)).lastSeq
  await runtime.close()
  return count
}

/** (a) or (b) on each store: a runtime per store, runs one after another on one session, rounds alternated. */
async function sequential(name: 'chat' | 'tools', runs: number, rounds: number, makeSqlite: () => Store): Promise<{ sqlite: number; memory: number }> {
  const open = async (store: Store): Promise<{ runtime: Runtime; sessionId: string }> => {
    const runtime = await openBenchRuntime(scenarios[name], store)
    return { runtime, sessionId: (await runtime.createSession()).id }
  }
  const onSqlite = await open(makeSqlite())
  const onMemory = await open(memoryStore())
  const { floor: memory, hearth: sqlite } = await alternate(
    rounds,
    () => time(runs, () => hearthRun(onMemory.runtime, onMemory.sessionId)),
    () => time(runs, () => hearthRun(onSqlite.runtime, onSqlite.sessionId)),
    warmups,
  )
  await onSqlite.runtime.close()
  await onMemory.runtime.close()
  return { sqlite: rate(runs, sqlite), memory: rate(runs, memory) }
}

/** (c) on each store: three waves per round on a fresh runtime, rounds alternated. */
async function concurrent(runs: number, sessions: number, rounds: number, makeSqlite: () => Store): Promise<{ sqlite: number; memory: number }> {
  const round = (makeStore: () => Store) => async (): Promise<Timing> => {
    const runtime = await openBenchRuntime(scenarios.tools, makeStore())
    const ids = await Promise.all(Array.from({ length: sessions }, async () => (await runtime.createSession()).id))
    const timing = await measure(async () => {
      for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: runs }, (_, index) => hearthRun(runtime, ids[index % sessions] as string)))
    })
    await runtime.close()
    return timing
  }
  const { floor: memory, hearth: sqlite } = await alternate(rounds, round(memoryStore), round(makeSqlite), warmups)
  return { sqlite: rate(runs * 3, sqlite), memory: rate(runs * 3, memory) }
}

/**
 * Raw better-sqlite3 writing `runs` runs of `eventsPerRun` events, each run in
 * one transaction, one run after another: the rows, pragmas and schema of
 * bench/sqlite-store.ts's floor. Runs/s, the median of `rounds`.
 */
async function rawSequentialFloor(path: string, runs: number, eventsPerRun: number, synchronous: 'normal' | 'full', rounds: number): Promise<number> {
  // The store makes the schema (its events table and index), then raw better-sqlite3 writes into it.
  const schemaOnly = sqliteStore({ path, synchronous, checkpoint: 'inline' })
  await schemaOnly.open()
  await schemaOnly.close()
  const database = new Database(path)
  database.pragma('journal_mode = WAL')
  database.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  const insert = database.prepare('INSERT INTO events (run_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)')
  const data = { content: 'word0 ', channel: 'text' }
  let next = 0
  const writeRun = database.transaction((runId: string) => {
    for (let seq = 1; seq <= eventsPerRun; seq++) insert.run(runId, seq, 'message.delta', JSON.stringify(data), new Date().toISOString())
  })
  const rates: number[] = []
  for (let round = 0; round <= rounds; round++) {
    const start = performance.now()
    for (let index = 0; index < runs; index++) writeRun(`run_${String(next++).padStart(22, '0')}`)
    if (round > 0) rates.push((runs / (performance.now() - start)) * 1000)
  }
  database.close()
  rates.sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)] as number
}

/** Runs (a), (b), (c) on SQLite and on memory, and compares (c)'s persisted events with the raw floor. */
export async function benchSqliteRuntime(options: SqliteRuntimeBenchOptions = {}): Promise<SqliteRuntimeBenchResult> {
  const { chatRuns = 500, toolRuns = 300, concurrentRuns = 200, sessions = 50, synchronous = 'normal', rounds = 7 } = options
  const directory = mkdtempSync(join(tmpdir(), 'hearth-bench-runtime-'))
  let files = 0
  const sqlite = (): Store => sqliteStore({ path: join(directory, `runtime-${files++}.db`), synchronous })
  try {
    const row = (name: string, { sqlite, memory }: { sqlite: number; memory: number }, rawFloor?: number): SqliteRuntimeRow => ({
      name,
      sqliteRunsPerSecond: sqlite,
      memoryRunsPerSecond: memory,
      slowdown: memory / sqlite,
      ...(rawFloor === undefined ? {} : { rawFloorRunsPerSecond: rawFloor, rawFloorSlowdown: memory / rawFloor }),
    })
    const chatEvents = await eventsOf('chat')
    const eventsPerRun = await eventsOf('tools')
    const rows = [
      row('(a) chat, 20 deltas', await sequential('chat', chatRuns, rounds, sqlite), await rawSequentialFloor(join(directory, 'raw-a.db'), chatRuns, chatEvents, synchronous, rounds)),
      row('(b) 3 tool turns + 20 deltas', await sequential('tools', toolRuns, rounds, sqlite), await rawSequentialFloor(join(directory, 'raw-b.db'), toolRuns, eventsPerRun, synchronous, rounds)),
      row(`(c) ${concurrentRuns} x (b) at once, ${sessions} sessions`, await concurrent(concurrentRuns, sessions, rounds, sqlite)),
    ]
    const runtimeEventsPerSecond = (rows[2] as SqliteRuntimeRow).sqliteRunsPerSecond * eventsPerRun
    const floor = await benchSqliteStore({ runs: concurrentRuns, eventsPerRun, synchronous, rounds: 5 })
    return { rows, eventsPerRun, runtimeEventsPerSecond, floorEventsPerSecond: floor.floorEventsPerSecond, floorShare: runtimeEventsPerSecond / floor.floorEventsPerSecond }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/** Prints the result as two tables. */
export function printSqliteRuntime(title: string, result: SqliteRuntimeBenchResult): void {
  console.log(`\n${title}`)
  console.table(
    result.rows.map((row) => ({
      scenario: row.name,
      'sqlite runs/s': Math.round(row.sqliteRunsPerSecond),
      'memory runs/s': Math.round(row.memoryRunsPerSecond),
      'memory/sqlite (target <= 3)': row.slowdown.toFixed(2),
      'raw sqlite floor runs/s': row.rawFloorRunsPerSecond === undefined ? '' : Math.round(row.rawFloorRunsPerSecond),
      'memory/raw floor': row.rawFloorSlowdown === undefined ? '' : row.rawFloorSlowdown.toFixed(2),
    })),
  )
  console.table([
    {
      'events per run': result.eventsPerRun,
      'runtime events/s (c)': Math.round(result.runtimeEventsPerSecond),
      'raw floor events/s': Math.round(result.floorEventsPerSecond),
      'runtime/floor (target >= 0.33)': result.floorShare.toFixed(2),
    },
  ])
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printSqliteRuntime("The runtime on SQLite (synchronous: 'normal') beside the memory store, and its persisted events beside raw better-sqlite3", await benchSqliteRuntime())
}
