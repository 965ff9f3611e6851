/**
 * Sequential runs on the memory store through the built package (`dist/`),
 * without a floor: the figure to compare between two commits, since the
 * tsx-run core bench moves ±10% between process runs on the 2-core VM.
 *
 *   npm run build && node --import tsx bench/sequential.ts [chat|tools] [runs]
 *
 * Prints `<scenario> runs/s <n>` after 1,000 warm-up runs.
 */
import { pathToFileURL } from 'node:url'
import { z } from 'zod'

const scenario = process.argv[2] === 'tools' ? 'tools' : 'chat'
const runs = Number(process.argv[3] ?? 10_000)
const dist = new URL('../dist/src/', import.meta.url)
const { Runtime, tool, memoryStore } = (await import(pathToFileURL(`${dist.pathname}index.js`).href)) as typeof import('../src/index.js')
const { reply, callTools, scriptedModel } = (await import(pathToFileURL(`${dist.pathname}testing/index.js`).href)) as typeof import('../src/testing/index.js')

const answer = Array.from({ length: 20 }, (_, index) => `word${index} `).join('')
const usage = { inputTokens: 100, outputTokens: 20 }
const turns = {
  chat: [[...reply(answer, { deltas: 20 }), { usage }]],
  tools: [
    [...callTools({ name: 'add', arguments: { a: 1, b: 2 } }), { usage }],
    [...callTools({ name: 'add', arguments: { a: 3, b: 4 } }), { usage }],
    [...callTools({ name: 'add', arguments: { a: 5, b: 6 } }), { usage }],
    [...reply(answer, { deltas: 20 }), { usage }],
  ],
}
const add = tool({ name: 'add', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b })
const runtime = await Runtime.open({
  store: memoryStore(),
  providers: { model: scriptedModel(turns[scenario]) },
  routes: { default: { provider: 'model', model: 'm' } },
  agents: [{ key: 'bench', version: 1, instructions: 'Benchmark.', tools: [add], historyRuns: 0 }],
})
const session = await runtime.createSession()
async function one(): Promise<void> {
  const run = await runtime.createRun(session.id, { input: 'go' })
  for await (const event of run.events()) void event
}
for (let index = 0; index < 1000; index++) await one()
const started = performance.now()
for (let index = 0; index < runs; index++) await one()
console.log(`${scenario} runs/s ${Math.round(runs / ((performance.now() - started) / 1000))}`)
await runtime.close()
