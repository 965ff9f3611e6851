/**
 * One runtime process of bench/postgres-runtime.ts: opens a Runtime on the
 * shared database with scenario (b) of bench/core.ts, makes its sessions,
 * warms up on 64 runs, says `ready`, and on `go` runs its share of the runs at once, then says
 * `done` with how many and closes. Forked with an IPC channel.
 */
import { postgresStore } from '../adapters/postgres/index.js'
import { hearthRun, openBenchRuntime, scenarios } from './core.js'

const [url, runsText, sessionsText] = process.argv.slice(2)
const runs = Number(runsText)
const sessions = Number(sessionsText)
const runtime = await openBenchRuntime(scenarios.tools, postgresStore({ connectionString: url as string }))
const ids = await Promise.all(Array.from({ length: sessions }, async () => (await runtime.createSession()).id))
// Warmed up first, so each process is measured at its steady pace rather than while the JIT compiles (a process per round).
await Promise.all(Array.from({ length: 64 }, (_, index) => hearthRun(runtime, ids[index % sessions] as string)))
process.send?.({ type: 'ready' })
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'go') return
  const started = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: runs }, (_, index) => hearthRun(runtime, ids[index % sessions] as string)))
  const used = process.cpuUsage(cpu)
  process.send?.({ type: 'done', runs, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 })
  await runtime.close()
  process.disconnect?.()
})
