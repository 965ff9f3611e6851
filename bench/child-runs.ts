/**
 * Child runs: what running an agent as a child run (agentTool) costs beside
 * doing the same work as plain runs, on the memory store and on SQLite.
 *
 * - child: a run of `lead` whose first turn calls the agent tool `worker`;
 *   the child run of `worker` streams 20 deltas; `lead` then answers in one
 *   delta. Two runs, three model turns, the child's events in its own log.
 * - floor: the same work without the child mechanism, in the same process
 *   run: a run of `lead2` whose first turn calls a plain tool that returns at
 *   once, then answers; and, once it started, a plain run of `worker` (20
 *   deltas), waited for before the lead's end.
 *
 * child / floor, in wall time per unit of work, is the overhead of the
 * mechanism (the child's insert, `subrun.*` events, the parent's stretch
 * given back and resumed, the watcher that follows the child's log).
 * Sequential (one unit at a time) and concurrent (100 units at once), medians
 * of 7 alternated rounds after one warm-up.
 *
 *   node --import tsx bench/child-runs.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { sqliteStore } from '../adapters/sqlite/index.js'
import { agentTool, memoryStore, Runtime, tool, type ModelRequest, type Store } from '../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../src/testing/index.js'
import { alternate, time, measure, type Timing } from './core.js'

const answer = Array.from({ length: 20 }, (_, index) => `word${index} `).join('')
const usage = { inputTokens: 100, outputTokens: 20 }

function script(request: ModelRequest): ScriptedTurn {
  const system = request.messages.find((message) => message.role === 'system')?.content
  const last = request.messages.at(-1)
  if (system === 'Worker.') return [...reply(answer, { deltas: 20 }), { usage }]
  const toolName = system === 'Lead.' ? 'worker' : 'quick'
  if (last?.role === 'user') return [...callTools({ name: toolName, arguments: { input: 'go' } }), { usage }]
  return [...reply('done', { deltas: 1 }), { usage }]
}

const quick = tool({ name: 'quick', input: z.object({ input: z.string() }), execute: () => answer })

async function open(store: Store): Promise<Runtime> {
  return Runtime.open({
    store,
    providers: { model: scriptedModel(script) },
    routes: { default: { provider: 'model', model: 'm' } },
    agents: [
      { key: 'worker', version: 1, instructions: 'Worker.', historyRuns: 0 },
      { key: 'lead', version: 1, instructions: 'Lead.', tools: [agentTool('worker@1')], historyRuns: 0 },
      { key: 'lead2', version: 1, instructions: 'Lead2.', tools: [quick], historyRuns: 0 },
    ],
  })
}

async function unitWithChild(runtime: Runtime): Promise<void> {
  const run = await runtime.createRun({ input: 'go', personaId: 'lead@1' })
  const done = await run.result()
  if (done.content !== 'done') throw new Error(`unexpected ${done.status}: ${done.content}`)
}

/** The same work in the same order (the lead's tool turn, the worker's answer, the lead's answer), as plain runs. */
async function unitPlain(runtime: Runtime): Promise<void> {
  const lead = await runtime.createRun({ input: 'go', personaId: 'lead2@1' })
  await (await runtime.createRun({ input: 'go', personaId: 'worker@1' })).result()
  await lead.result()
}

/** One store's figures. */
export interface ChildRunRow {
  name: string
  childUnitsPerSecond: number
  floorUnitsPerSecond: number
  /** child / floor wall time per unit: how many times slower the same work is with a child run. */
  ratio: number
  overheadMsPerUnit: number
}

async function row(name: string, makeStore: () => Store, units: number, concurrent: boolean): Promise<ChildRunRow> {
  const runtime = await open(makeStore())
  const batch = (unit: (runtime: Runtime) => Promise<void>) => (): Promise<Timing> =>
    concurrent ? measure(() => Promise.all(Array.from({ length: units }, () => unit(runtime)))) : time(units, () => unit(runtime))
  const { floor, hearth } = await alternate(7, batch(unitPlain), batch(unitWithChild))
  await runtime.close()
  return {
    name,
    childUnitsPerSecond: (units / hearth.wallMs) * 1000,
    floorUnitsPerSecond: (units / floor.wallMs) * 1000,
    ratio: hearth.wallMs / floor.wallMs,
    overheadMsPerUnit: (hearth.wallMs - floor.wallMs) / units,
  }
}

/** Every row: memory and SQLite, sequential and concurrent. */
export async function benchChildRuns(): Promise<ChildRunRow[]> {
  const directory = mkdtempSync(join(tmpdir(), 'hearth-bench-child-'))
  let files = 0
  const sqlite = (): Store => sqliteStore({ path: join(directory, `child-${files++}.db`) })
  try {
    return [
      await row('memory, one unit at a time (200)', memoryStore, 200, false),
      await row('memory, 100 units at once', memoryStore, 100, true),
      await row('SQLite, one unit at a time (100)', sqlite, 100, false),
      await row('SQLite, 100 units at once', sqlite, 100, true),
    ]
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/** The rows as lines. */
export function formatChildRuns(rows: readonly ChildRunRow[]): string {
  return [
    'Child runs (a lead run handing a 20-delta answer to a child run, beside the same work as a plain tool call and a plain run; child/floor = how many times slower):',
    ...rows.map((entry) => `  ${entry.name}: child ${entry.childUnitsPerSecond.toFixed(0)}/s, floor ${entry.floorUnitsPerSecond.toFixed(0)}/s, child/floor ${entry.ratio.toFixed(2)}, +${entry.overheadMsPerUnit.toFixed(3)} ms a unit`),
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(formatChildRuns(await benchChildRuns()))
