/**
 * One runtime process of bench/postgres-runtime.ts: opens a Runtime on the
 * shared database with scenario (b) of bench/core.ts, makes its sessions,
 * says `ready`, and on `go` runs its share of the runs at once, then says
 * `done` with how many and closes. Forked with an IPC channel.
 */
import { postgresStore } from '../adapters/postgres/index.js'
import { hearthRun, openBenchRuntime, scenarios } from './core.js'

const [url, runsText, sessionsText] = process.argv.slice(2)
const runs = Number(runsText)
const sessions = Number(sessionsText)
const runtime = await openBenchRuntime(scenarios.tools, postgresStore({ connectionString: url as string }))
const ids = await Promise.all(Array.from({ length: sessions }, async () => (await runtime.createSession()).id))
process.send?.({ type: 'ready' })
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'go') return
  const started = performance.now()
  await Promise.all(Array.from({ length: runs }, (_, index) => hearthRun(runtime, ids[index % sessions] as string)))
  process.send?.({ type: 'done', runs, ms: performance.now() - started })
  await runtime.close()
  process.disconnect?.()
})
