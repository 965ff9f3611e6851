/**
 * Scenario (c) of bench/core.ts (runs of three tool turns and a 20-delta
 * answer, started at once across sessions) on one PostgreSQL database, with
 * 1, 2 and 3 runtime processes sharing the work: 1,200 runs in all, split
 * evenly, each process with its own sessions. Runs/s is the runs over the
 * wall time from `go` to the last process's end. Rounds of 1, 2 and 3
 * processes alternate, so each sees the same machine; figures are medians.
 *
 *   npx tsx bench/postgres-runtime.ts
 *
 * Target: 2 processes at least 1.2x one, on this 2-core machine, which the
 * database server shares.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { withBenchDatabase } from './postgres-store.js'

const worker = fileURLToPath(new URL('./postgres-worker.ts', import.meta.url))

/** Runs/s by number of processes, and the ratios to one process. */
export interface PostgresRuntimeBenchResult {
  runsPerSecond: Record<1 | 2 | 3, number>
  /** runs/s of N processes over runs/s of one. */
  scaling: Record<2 | 3, number>
  totalRuns: number
}

function waitFor(child: ChildProcess, type: string): Promise<{ type: string; runs?: number; ms?: number }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
    child.once('exit', (code) => reject(new Error(`A bench worker exited with ${String(code)} before ${type}`)))
  })
}

async function round(url: string, processes: number, totalRuns: number, totalSessions: number): Promise<number> {
  const children = Array.from({ length: processes }, () =>
    fork(worker, [url, String(totalRuns / processes), String(Math.max(1, Math.round(totalSessions / processes)))], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  await Promise.all(children.map((child) => waitFor(child, 'ready')))
  const started = performance.now()
  const done = children.map((child) => waitFor(child, 'done'))
  for (const child of children) child.send({ type: 'go' })
  await Promise.all(done)
  const seconds = (performance.now() - started) / 1000
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)))))
  return totalRuns / seconds
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Measures (c) with 1, 2 and 3 processes: `rounds` alternated rounds after a warm-up of each. */
export async function benchPostgresRuntime(options: { totalRuns?: number; totalSessions?: number; rounds?: number } = {}): Promise<PostgresRuntimeBenchResult> {
  const { totalRuns = 1200, totalSessions = 300, rounds = 5 } = options
  return withBenchDatabase(async (url) => {
    const measured: Record<1 | 2 | 3, number[]> = { 1: [], 2: [], 3: [] }
    for (const processes of [1, 2, 3] as const) await round(url, processes, totalRuns / 2, totalSessions)
    for (let index = 0; index < rounds; index++) {
      for (const processes of [1, 2, 3] as const) measured[processes].push(await round(url, processes, totalRuns, totalSessions))
    }
    const runsPerSecond = { 1: median(measured[1]), 2: median(measured[2]), 3: median(measured[3]) }
    return { runsPerSecond, scaling: { 2: runsPerSecond[2] / runsPerSecond[1], 3: runsPerSecond[3] / runsPerSecond[1] }, totalRuns }
  }, 'bench_runtime')
}

/** The figures as lines. */
export function formatPostgresRuntime(result: PostgresRuntimeBenchResult): string {
  const { runsPerSecond, scaling } = result
  return [
    `Scenario (c) on one PostgreSQL database, ${result.totalRuns} runs split over 1, 2 and 3 runtime processes (runs/s, medians):`,
    `  1 process ${Math.round(runsPerSecond[1])}, 2 processes ${Math.round(runsPerSecond[2])} (${scaling[2].toFixed(2)}x), 3 processes ${Math.round(runsPerSecond[3])} (${scaling[3].toFixed(2)}x)`,
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(formatPostgresRuntime(await benchPostgresRuntime()))
