/**
 * Two or more builds of hearth side by side in one process: the core
 * scenarios through each tree's `dist/`, in alternating rounds, medians.
 * One process spares the comparison the ±10% that separate process runs
 * move on a shared VM; each tree loads its own module graph.
 *
 *   npm run build && (cd ../other && npx tsc -p tsconfig.build.json)
 *   node --import tsx bench/compare.ts <scenario> <rounds> <tree> <tree> ...
 *
 * `scenario` is `chat`, `tools`, `concurrent` (memory store), or
 * `sqlite-chat`, `sqlite-tools`, `sqlite-concurrent` (a fresh SQLite file
 * per round, removed after). Concurrent: 3 waves of 200 runs of the tools
 * script on 50 sessions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import type * as Core from '../src/index.js'
import type * as Sqlite from '../adapters/sqlite/index.js'
import type * as Testing from '../src/testing/index.js'
import { median } from './core.js'

type Scenario = 'chat' | 'tools' | 'concurrent' | 'sqlite-chat' | 'sqlite-tools' | 'sqlite-concurrent'
const scenarioNames: readonly Scenario[] = ['chat', 'tools', 'concurrent', 'sqlite-chat', 'sqlite-tools', 'sqlite-concurrent']

/** One round's figures: runs per second (wall) and CPU microseconds per run. */
interface Round {
  runsPerSecond: number
  cpuMicrosPerRun: number
}

const answer = Array.from({ length: 20 }, (_, index) => `word${index} `).join('')
const usage = { inputTokens: 100, outputTokens: 20 }

/** Loads a tree's build and returns a function that times one round of `scenario` on it. */
async function loadTree(tree: string, scenario: Scenario): Promise<() => Promise<Round>> {
  const url = (path: string): string => pathToFileURL(join(resolve(tree), 'dist', path)).href
  const core = (await import(url('src/index.js'))) as typeof Core
  const testing = (await import(url('src/testing/index.js'))) as typeof Testing
  const sqlite = (await import(url('adapters/sqlite/index.js'))) as typeof Sqlite
  const chat = scenario === 'chat' || scenario === 'sqlite-chat'
  const script: Testing.ScriptedTurn[] = chat
    ? [[...testing.reply(answer, { deltas: 20 }), { usage }]]
    : [
        [...testing.callTools({ name: 'add', arguments: { a: 1, b: 2 } }), { usage }],
        [...testing.callTools({ name: 'add', arguments: { a: 3, b: 4 } }), { usage }],
        [...testing.callTools({ name: 'add', arguments: { a: 5, b: 6 } }), { usage }],
        [...testing.reply(answer, { deltas: 20 }), { usage }],
      ]
  const add = core.tool({ name: 'add', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b })
  const onSqlite = scenario.startsWith('sqlite')
  // Runs per round: rounds of some 30 to 60 ms on this VM.
  const concurrent = scenario === 'concurrent' || scenario === 'sqlite-concurrent'
  const runs = concurrent ? 600 : (chat ? 1000 : 500) / (onSqlite ? 5 : 1)
  return async () => {
    const directory = onSqlite ? mkdtempSync(join(tmpdir(), 'hearth-compare-')) : undefined
    const runtime = await core.Runtime.open({
      store: directory === undefined ? core.memoryStore() : sqlite.sqliteStore({ path: join(directory, 'bench.db') }),
      providers: { model: testing.scriptedModel(script) },
      routes: { default: { provider: 'model', model: 'm' } },
      agents: [{ key: 'bench', version: 1, instructions: 'Benchmark.', tools: [add], historyRuns: 0 }],
    })
    const sessions = await Promise.all(Array.from({ length: 50 }, async () => (await runtime.createSession()).id))
    let events = 0
    const one = async (sessionId: string): Promise<void> => {
      const run = await runtime.createRun(sessionId, { input: 'go' })
      for await (const event of run.events()) if (event.seq > 0) events++
    }
    const cpu = process.cpuUsage()
    const start = performance.now()
    if (concurrent) {
      for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: 200 }, (_, index) => one(sessions[index % 50] as string)))
    } else {
      for (let index = 0; index < runs; index++) await one(sessions[0] as string)
    }
    const wallMs = performance.now() - start
    const used = process.cpuUsage(cpu)
    await runtime.close()
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
    if (events === 0) throw new Error(`${tree}: the runs produced no events`)
    return { runsPerSecond: (runs / wallMs) * 1000, cpuMicrosPerRun: (used.user + used.system) / runs }
  }
}

/** Alternates rounds of `scenario` over `trees` (the order rotated each round, two warm-up rounds first); medians per tree. */
export async function compareTrees(scenario: Scenario, rounds: number, trees: string[]): Promise<{ tree: string; runsPerSecond: number; cpuMicrosPerRun: number }[]> {
  const benches = []
  for (const tree of trees) benches.push(await loadTree(tree, scenario))
  const results = trees.map(() => [] as Round[])
  for (let round = 0; round < rounds + 2; round++) {
    for (let offset = 0; offset < trees.length; offset++) {
      const index = (round + offset) % trees.length
      const result = await (benches[index] as () => Promise<Round>)()
      if (round >= 2) results[index]?.push(result)
    }
  }
  return trees.map((tree, index) => ({
    tree,
    runsPerSecond: median((results[index] as Round[]).map((round) => round.runsPerSecond)),
    cpuMicrosPerRun: median((results[index] as Round[]).map((round) => round.cpuMicrosPerRun)),
  }))
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [scenario, rounds, ...trees] = process.argv.slice(2)
  if (!scenarioNames.includes(scenario as Scenario) || !(Number(rounds) > 0) || trees.length === 0) {
    console.error(`usage: node --import tsx bench/compare.ts <${scenarioNames.join('|')}> <rounds> <tree> [tree ...]`)
    process.exit(2)
  }
  const rows = await compareTrees(scenario as Scenario, Number(rounds), trees)
  const first = rows[0] as (typeof rows)[number]
  console.table(
    rows.map((row) => ({
      tree: row.tree,
      'runs/s': Math.round(row.runsPerSecond),
      'cpu µs/run': row.cpuMicrosPerRun.toFixed(1),
      'vs first': (row.runsPerSecond / first.runsPerSecond).toFixed(3),
    })),
  )
}
