/**
 * Every benchmark behind the README's figures, in one process run.
 *
 *   npm run bench
 */
import { benchChildRuns, formatChildRuns } from './child-runs.js'
import { benchCore, printComparisons } from './core.js'
import { formatHttpSse, benchHttpSse } from './http-sse.js'
import { benchMemory, formatMemory } from './memory.js'
import { benchTelemetry, formatTelemetry } from './telemetry.js'
import { benchImportCost } from './import-cost.js'
import { benchPostgresRuntime, formatPostgresRuntime } from './postgres-runtime.js'
import { benchPgReachable, benchPgUrl, benchPostgresStore } from './postgres-store.js'
import { benchSqliteStore } from './sqlite-store.js'
import { benchSqliteRuntime, printSqliteRuntime } from './sqlite-runtime.js'
import { benchStalledReaders, formatStalledReaders } from './stalled-readers.js'

printComparisons('Core on the memory store (floor: a hand-written loop with the same model and tool; floor/hearth = how many times slower)', await benchCore())

const imports = benchImportCost()
console.log(
  `\nImport cost (whole node process, median of 11, interleaved): hearth ${imports.hearthMs.toFixed(1)} ms, zod alone ${imports.zodMs.toFixed(1)} ms, ratio ${imports.ratio.toFixed(3)}`,
)

for (const synchronous of ['normal', 'full'] as const) {
  const sqlite = await benchSqliteStore({ synchronous })
  console.log(
    `\nSQLite store (synchronous: '${synchronous}'), 200 concurrent runs x 30 events, one commit per event: ${Math.round(sqlite.storeEventsPerSecond)} events/s; raw better-sqlite3 (same pragmas, one transaction per run) ${Math.round(sqlite.floorEventsPerSecond)} events/s; store/floor ${sqlite.ratio.toFixed(2)}`,
  )
}

printSqliteRuntime('\nThe runtime on SQLite beside the memory store, and its persisted events beside raw better-sqlite3', await benchSqliteRuntime())

console.log(`\n${formatHttpSse(await benchHttpSse())}`)

console.log(`\n${formatStalledReaders(await benchStalledReaders())}`)

console.log(`\n${formatChildRuns(await benchChildRuns())}`)

console.log(`\n${formatMemory(await benchMemory())}`)

console.log(`\n${formatTelemetry(await benchTelemetry())}`)

if (await benchPgReachable()) {
  const postgres = await benchPostgresStore()
  console.log(
    `\nPostgreSQL store, 200 concurrent runs x 30 events, one commit per event: ${postgres.storeEventsPerSecond} events/s in ${postgres.storeTransactions} transactions; raw pg (one transaction per step of all runs: one UPDATE, one INSERT) ${postgres.floorEventsPerSecond} events/s; store/floor ${postgres.ratio.toFixed(2)}`,
  )
  console.log(`\n${formatPostgresRuntime(await benchPostgresRuntime())}`)
} else {
  console.log(`\nPostgreSQL: skipped, no server at ${benchPgUrl} (set HEARTH_BENCH_PG_URL)`)
}
