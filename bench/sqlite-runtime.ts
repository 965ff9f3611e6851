/**
 * The runtime on SQLite: scenarios (a), (b) and (c) of bench/core.ts with
 * `sqliteStore({ path })` on a fresh temporary file, beside the same
 * scenarios on the memory store in the same process run; and the events per
 * second that 200 concurrent runtime runs persist, beside the raw
 * better-sqlite3 floor of bench/sqlite-store.ts.
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
import { sqliteStore } from '../adapters/sqlite/index.js'
import { memoryStore, type Store } from '../src/index.js'
import { benchConcurrent, benchSequential, openBenchRuntime, scenarios, type Comparison } from './core.js'
import { benchSqliteStore } from './sqlite-store.js'

/** One scenario on both stores. */
export interface SqliteRuntimeRow {
  name: string
  sqliteRunsPerSecond: number
  memoryRunsPerSecond: number
  /** memory / sqlite: how many times slower the runtime is on SQLite (target: at most 3). */
  slowdown: number
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
  /** Runs of (a). @default 500 */
  chatRuns?: number
  /** Runs of (b). @default 300 */
  toolRuns?: number
  /** Runs of (c) started at once. @default 200 */
  concurrentRuns?: number
  /** Sessions the runs of (c) spread over. @default 50 */
  sessions?: number
  /** `synchronous` of the SQLite files. @default 'normal' */
  synchronous?: 'normal' | 'full'
}

async function countEvents(): Promise<number> {
  const runtime = await openBenchRuntime(scenarios.tools, memoryStore())
  const session = await runtime.createSession()
  const run = await runtime.createRun(session.id, { input: 'go' })
  await run.result()
  const count = (await runtime.getRun(run.id)).lastSeq
  await runtime.close()
  return count
}

/** Runs (a), (b), (c) on SQLite and on memory, and compares (c)'s persisted events with the raw floor. */
export async function benchSqliteRuntime(options: SqliteRuntimeBenchOptions = {}): Promise<SqliteRuntimeBenchResult> {
  const { chatRuns = 500, toolRuns = 300, concurrentRuns = 200, sessions = 50, synchronous = 'normal' } = options
  const directory = mkdtempSync(join(tmpdir(), 'hearth-bench-runtime-'))
  let files = 0
  const sqlite = (): Store => sqliteStore({ path: join(directory, `runtime-${files++}.db`), synchronous })
  try {
    const pairs: [Comparison, Comparison][] = [
      [await benchSequential('chat', chatRuns, sqlite), await benchSequential('chat', chatRuns, memoryStore)],
      [await benchSequential('tools', toolRuns, sqlite), await benchSequential('tools', toolRuns, memoryStore)],
      [await benchConcurrent(concurrentRuns, sessions, sqlite), await benchConcurrent(concurrentRuns, sessions, memoryStore)],
    ]
    const rows = pairs.map(([onSqlite, onMemory]) => ({
      name: onSqlite.name,
      sqliteRunsPerSecond: onSqlite.hearthRunsPerSecond,
      memoryRunsPerSecond: onMemory.hearthRunsPerSecond,
      slowdown: onMemory.hearthRunsPerSecond / onSqlite.hearthRunsPerSecond,
    }))
    const eventsPerRun = await countEvents()
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
