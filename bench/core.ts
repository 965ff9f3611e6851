/**
 * Core benchmark: hearth on the memory store beside the floor, a hand-written
 * minimal loop doing the same work (same scripted model, same tool, same
 * events), in the same process run.
 *
 *   npx tsx bench/core.ts
 */
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { memoryStore, Runtime, tool, type Store } from '../src/index.js'
import type { ModelProvider } from '../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../src/testing/index.js'

type Json = unknown
interface FloorEvent {
  seq: number
  type: string
  data: Json
}

const answer = Array.from({ length: 20 }, (_, index) => `word${index} `).join('')
const usage = { inputTokens: 100, outputTokens: 20 }

/** (a) one turn of 20 deltas; (b) three tool turns, then a 20-delta answer. */
export const scenarios: Record<'chat' | 'tools', ScriptedTurn[]> = {
  chat: [[...reply(answer, { deltas: 20 }), { usage }]],
  tools: [
    [...callTools({ name: 'add', arguments: { a: 1, b: 2 } }), { usage }],
    [...callTools({ name: 'add', arguments: { a: 3, b: 4 } }), { usage }],
    [...callTools({ name: 'add', arguments: { a: 5, b: 6 } }), { usage }],
    [...reply(answer, { deltas: 20 }), { usage }],
  ],
}

const addInput = z.object({ a: z.number(), b: z.number() })
const add = tool({ name: 'add', input: addInput, execute: ({ a, b }) => a + b })

/** The floor: the least a loop can do to produce the same events. */
async function* floorLoop(model: ModelProvider, input: string): AsyncGenerator<FloorEvent> {
  let seq = 0
  const signal = new AbortController().signal
  const messages: { role: string; content: string }[] = [{ role: 'user', content: input }]
  yield { seq: ++seq, type: 'run.started', data: {} }
  for (;;) {
    let text = ''
    const calls: { id: string; name: string; arguments: string }[] = []
    for await (const chunk of model.stream({ model: 'm', messages: messages as never, tools: [] }, { signal })) {
      if (chunk.type === 'text-delta') {
        text += chunk.text
        yield { seq: ++seq, type: 'message.delta', data: { content: chunk.text, channel: 'text' } }
      } else if (chunk.type === 'tool-call') calls.push(chunk)
    }
    messages.push({ role: 'assistant', content: text })
    yield { seq: ++seq, type: 'message.completed', data: { content: text, tool_calls: calls } }
    if (calls.length === 0) {
      yield { seq: ++seq, type: 'run.completed', data: { content: text } }
      return
    }
    for (const call of calls) {
      const args = addInput.parse(JSON.parse(call.arguments))
      yield { seq: ++seq, type: 'tool.call', data: { tool_call_id: call.id, arguments: args } }
      const output = await add.execute(args, {} as never)
      messages.push({ role: 'tool', content: JSON.stringify(output) })
      yield { seq: ++seq, type: 'tool.result', data: { tool_call_id: call.id, output } }
    }
  }
}

async function floorRun(model: ModelProvider): Promise<number> {
  const events: FloorEvent[] = []
  for await (const event of floorLoop(model, 'go')) events.push(event)
  return events.length
}

/** Opens a runtime on `store` with the scenario's model and the `add` tool. */
export async function openBenchRuntime(script: ScriptedTurn[], store: Store = memoryStore()): Promise<Runtime> {
  return Runtime.open({
    store,
    providers: { model: scriptedModel(script) },
    routes: { default: { provider: 'model', model: 'm' } },
    // historyRuns 0: the model gets the same messages as in the floor, which keeps no history.
    agents: [{ key: 'bench', version: 1, instructions: 'Benchmark.', tools: [add], historyRuns: 0 }],
  })
}

/** One run through hearth, read to its end through `run.events()`; returns the events read. */
export async function hearthRun(runtime: Runtime, sessionId: string): Promise<number> {
  const run = await runtime.createRun(sessionId, { input: 'go' })
  let count = 0
  for await (const event of run.events()) if (event.seq > 0) count++
  return count
}

/** One measured figure set. */
export interface Comparison {
  name: string
  hearthRunsPerSecond: number
  floorRunsPerSecond: number
  /** floor / hearth in wall time: how many times slower hearth is. */
  ratio: number
  /** floor / hearth in CPU time of this process (steadier on a shared machine). */
  cpuRatio: number
  overheadMsPerRun: number
  peakHeapMb?: number
}

/** Wall and CPU milliseconds of one measured stretch. */
export interface Timing {
  wallMs: number
  cpuMs: number
}

/** Measures `body`'s wall time and this process's CPU time. */
export async function measure(body: () => Promise<unknown>): Promise<Timing> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  await body()
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuMs: (used.user + used.system) / 1000 }
}

/** Times `runs` calls of `body`, one after another. */
export function time(runs: number, body: (index: number) => Promise<unknown>): Promise<Timing> {
  return measure(async () => {
    for (let index = 0; index < runs; index++) await body(index)
  })
}

function compare(name: string, runs: number, hearth: Timing, floor: Timing, extra: Partial<Comparison> = {}): Comparison {
  const hearthRunsPerSecond = (runs / hearth.wallMs) * 1000
  const floorRunsPerSecond = (runs / floor.wallMs) * 1000
  return {
    name,
    hearthRunsPerSecond,
    floorRunsPerSecond,
    ratio: floorRunsPerSecond / hearthRunsPerSecond,
    cpuRatio: hearth.cpuMs / floor.cpuMs,
    overheadMsPerRun: (hearth.wallMs - floor.wallMs) / runs,
    ...extra,
  }
}

/** The median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Alternates floor and hearth rounds (`warmups` unmeasured rounds of each first) and returns the median timings of each. */
export async function alternate(
  rounds: number,
  floor: () => Promise<Timing>,
  hearth: () => Promise<Timing>,
  warmups = 1,
): Promise<{ floor: Timing; hearth: Timing }> {
  for (let round = 0; round < warmups; round++) {
    await floor()
    await hearth()
  }
  const floors: Timing[] = []
  const hearths: Timing[] = []
  for (let round = 0; round < rounds; round++) {
    floors.push(await floor())
    hearths.push(await hearth())
  }
  const pick = (timings: Timing[]): Timing => ({ wallMs: median(timings.map((t) => t.wallMs)), cpuMs: median(timings.map((t) => t.cpuMs)) })
  return { floor: pick(floors), hearth: pick(hearths) }
}

/** (a) and (b): runs one after another on one session (its agent keeps no history, so each run is one conversation, as in the floor). */
export async function benchSequential(name: 'chat' | 'tools', runs: number, makeStore: () => Store = memoryStore): Promise<Comparison> {
  const script = scenarios[name]
  const runtime = await openBenchRuntime(script, makeStore())
  const session = await runtime.createSession()
  const floorModel = scriptedModel(script)
  const { floor, hearth } = await alternate(
    7,
    () => time(runs, () => floorRun(floorModel)),
    () => time(runs, () => hearthRun(runtime, session.id)),
  )
  await runtime.close()
  return compare(name === 'chat' ? '(a) chat, 20 deltas' : '(b) 3 tool turns + 20 deltas', runs, hearth, floor)
}

/** (c): `runs` runs of (b) started at once across `sessions` sessions, with the peak heap of one such wave. */
export async function benchConcurrent(runs = 200, sessions = 50, makeStore: () => Store = memoryStore): Promise<Comparison> {
  const script = scenarios.tools
  const floorModel = scriptedModel(script)
  const wave = async (runtime: Runtime, ids: string[]): Promise<void> => {
    await Promise.all(Array.from({ length: runs }, (_, index) => hearthRun(runtime, ids[index % sessions] as string)))
  }
  const open = async (): Promise<{ runtime: Runtime; ids: string[] }> => {
    const runtime = await openBenchRuntime(script, makeStore())
    return { runtime, ids: await Promise.all(Array.from({ length: sessions }, async () => (await runtime.createSession()).id)) }
  }
  const { floor, hearth } = await alternate(
    7,
    // Three waves per round, so a round lasts long enough to time.
    () =>
      measure(async () => {
        for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: runs }, () => floorRun(floorModel)))
      }),
    async () => {
      const { runtime, ids } = await open()
      const timing = await measure(async () => {
        for (let round = 0; round < 3; round++) await wave(runtime, ids)
      })
      await runtime.close()
      return timing
    },
  )

  // The peak heap of one wave on a fresh runtime, sampled every 2 ms, after the garbage of the timed rounds is collected.
  await new Promise((resolve) => setTimeout(resolve, 50))
  globalThis.gc?.()
  const { runtime, ids } = await open()
  if (process.env.HEARTH_BENCH_DEBUG) console.log('heap before the wave', process.memoryUsage().heapUsed / 1048576)
  let peak = process.memoryUsage().heapUsed
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed)
  }, 2)
  await wave(runtime, ids)
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  await runtime.close()
  return compare(`(c) ${runs} x (b) at once, ${sessions} sessions`, runs * 3, hearth, floor, { peakHeapMb: peak / 1024 / 1024 })
}

/** Runs (a), (b), (c) on the memory store. */
export async function benchCore(): Promise<Comparison[]> {
  return [await benchSequential('chat', 2000), await benchSequential('tools', 1000), await benchConcurrent()]
}

/** Prints comparisons as a table. */
export function printComparisons(title: string, rows: Comparison[]): void {
  console.log(`\n${title}`)
  console.table(
    rows.map((row) => ({
      scenario: row.name,
      'hearth runs/s': Math.round(row.hearthRunsPerSecond),
      'floor runs/s': Math.round(row.floorRunsPerSecond),
      'floor/hearth (wall)': row.ratio.toFixed(2),
      'floor/hearth (cpu)': row.cpuRatio.toFixed(2),
      'overhead ms/run': row.overheadMsPerRun.toFixed(3),
      ...(row.peakHeapMb === undefined ? {} : { 'peak heap MB': row.peakHeapMb.toFixed(1) }),
    })),
  )
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printComparisons('Core, memory store', await benchCore())
}
