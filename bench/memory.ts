/**
 * User memory: the latency a run of an agent with `memory: 'auto'` adds over
 * the same run of the same agent without memory, with an instant model, on
 * the memory store and on SQLite.
 *
 * - plain: a run of `plain` (no memory) in a session of user `u`: one turn of
 *   20 deltas.
 * - memory: the same run of `remembering` (`memory: 'auto'`), whose user has
 *   20 memories: they are read and go into its instructions, and an
 *   extraction request (the same instant model, answering that nothing
 *   changes) runs alongside and commits `memory.update_started` and
 *   `memory.update_completed` before `run.completed`.
 *
 * memory - plain, in ms a run, is what memory adds, the extraction call
 * included (with a real model it runs alongside the answer, so only what
 * outlasts the answer adds to a run's latency). One run at a time, medians
 * of 7 alternated rounds after one warm-up.
 *
 *   node --import tsx bench/memory.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { sqliteStore } from '../adapters/sqlite/index.js'
import { memoryStore, Runtime, type ModelRequest, type Store } from '../src/index.js'
import { reply, scriptedModel, type ScriptedTurn } from '../src/testing/index.js'
import { alternate, time } from './core.js'

const answer = Array.from({ length: 20 }, (_, index) => `word${index} `).join('')
const usage = { inputTokens: 100, outputTokens: 20 }
const nothingNew = JSON.stringify({ add: [], update: [], delete: [] })

function script(request: ModelRequest): ScriptedTurn {
  if (request.responseFormat?.name === 'memory_updates') return [...reply(nothingNew, { deltas: 1 }), { usage }]
  return [...reply(answer, { deltas: 20 }), { usage }]
}

/** One store's figures. */
export interface MemoryBenchRow {
  name: string
  plainRunsPerSecond: number
  memoryRunsPerSecond: number
  /** memory - plain wall time, in ms a run. */
  addedMsPerRun: number
}

async function row(name: string, store: Store, runs: number): Promise<MemoryBenchRow> {
  const runtime = await Runtime.open({
    store,
    providers: { model: scriptedModel(script) },
    routes: { default: { provider: 'model', model: 'm' } },
    agents: [
      { key: 'plain', version: 1, instructions: 'Be brief.', historyRuns: 0 },
      { key: 'remembering', version: 1, instructions: 'Be brief.', historyRuns: 0, memory: 'auto' },
    ],
  })
  for (let index = 0; index < 20; index++) await runtime.memories.create({ userId: 'u', memory: `Fact number ${index} about the user`, topics: ['bench'] })
  const plainSession = await runtime.createSession({ agent: 'plain', userId: 'u' })
  const memorySession = await runtime.createSession({ agent: 'remembering', userId: 'u' })
  const unit = (sessionId: string) => async () => {
    const done = await (await runtime.createRun(sessionId, { input: 'Tell me something.' })).result()
    if (done.status !== 'completed') throw new Error(`unexpected ${done.status}`)
  }
  const { floor, hearth } = await alternate(7, () => time(runs, unit(plainSession.id)), () => time(runs, unit(memorySession.id)))
  await runtime.close()
  return {
    name,
    plainRunsPerSecond: (runs / floor.wallMs) * 1000,
    memoryRunsPerSecond: (runs / hearth.wallMs) * 1000,
    addedMsPerRun: (hearth.wallMs - floor.wallMs) / runs,
  }
}

/** Both rows: memory store and SQLite. */
export async function benchMemory(): Promise<MemoryBenchRow[]> {
  const directory = mkdtempSync(join(tmpdir(), 'hearth-bench-memory-'))
  try {
    return [await row('memory store, 500 runs a round', memoryStore(), 500), await row('SQLite, 200 runs a round', sqliteStore({ path: join(directory, 'memory.db') }), 200)]
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/** The rows as lines. */
export function formatMemory(rows: readonly MemoryBenchRow[]): string {
  return [
    "User memory (a run of an agent with memory: 'auto', its user's 20 memories read and injected, an instant extraction alongside, beside the same run without memory; one run at a time):",
    ...rows.map((entry) => `  ${entry.name}: plain ${entry.plainRunsPerSecond.toFixed(0)}/s, with memory ${entry.memoryRunsPerSecond.toFixed(0)}/s, +${entry.addedMsPerRun.toFixed(3)} ms a run`),
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(formatMemory(await benchMemory()))
