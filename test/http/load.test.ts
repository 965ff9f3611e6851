/**
 * SSE under load on loopback: many concurrent clients on live runs, each
 * receiving every event of its run exactly once, in order. A small scale runs
 * in `npm test`; `npm run test:load` runs 200 clients (HEARTH_LOAD_CLIENTS).
 *
 * The runs are held at two gates so the test is about the server, not about
 * timing: half the clients connect while the runs are live but quiet, the
 * runs stream, the other half join mid-run (replay, then live), and the runs
 * finish only once every client is connected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Runtime, type ModelProvider } from 'hearth-runtime'
import { apiClient, openEvents, range, serveRuntime, sseFrames, startRun, type TestServer } from './support.js'

const clients = Number(process.env.HEARTH_LOAD_CLIENTS ?? '20')
const clientsPerRun = 4
const deltasPerPart = 40
const deltaMs = 5

function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}
const gates = [gate(), gate()]

/** Streams `deltasPerPart` deltas after each gate opens. */
const gatedModel: ModelProvider = {
  name: 'gated',
  async *stream() {
    for (const [part, { opened }] of gates.entries()) {
      await opened
      for (let index = 0; index < deltasPerPart; index++) {
        await new Promise((resolve) => setTimeout(resolve, deltaMs))
        yield { type: 'text-delta', text: `p${part}w${index} ` }
      }
    }
    yield { type: 'finish', reason: 'stop' }
  },
}

let runtime: Runtime
let server: TestServer
let open = 0
let peak = 0

beforeAll(async () => {
  runtime = await Runtime.open({
    providers: { gated: gatedModel },
    routes: { default: { provider: 'gated', model: 'gated' } },
    agents: [{ key: 'load', version: 1 }],
    concurrency: 512,
  })
  server = await serveRuntime(runtime, { pingIntervalMs: 250 })
})

afterAll(async () => {
  for (const { open: release } of gates) release()
  await server.close()
  await runtime.close()
})

async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Only ${open} of the clients connected`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** One client: reads its run's stream to the end; `connected` counts it once the first event arrived. */
async function client(runId: string): Promise<number[]> {
  const response = await openEvents(server.url, runId, { signal: AbortSignal.timeout(90_000) })
  if (response.status !== 200) throw new Error(`Expected 200, got ${response.status}`)
  const seqs: number[] = []
  let terminal = ''
  try {
    for await (const frame of sseFrames(response)) {
      if (frame.data === undefined) continue
      if (frame.id !== String(frame.data.seq) || frame.data.run_id !== runId) throw new Error(`A frame of another run or with a wrong id: ${JSON.stringify(frame)}`)
      if (seqs.length === 0) peak = Math.max(peak, ++open)
      seqs.push(frame.data.seq)
      terminal = frame.data.type
    }
  } finally {
    if (seqs.length > 0) open--
  }
  if (terminal !== 'run.completed') throw new Error(`The stream of ${runId} ended on ${terminal}`)
  return seqs
}

describe(`SSE load: ${clients} concurrent clients`, () => {
  it('every client receives every event of its live run exactly once', { timeout: 120_000 }, async () => {
    expect(Number.isInteger(clients) && clients > 0).toBe(true)
    const api = apiClient(server.url)
    const runCount = Math.ceil(clients / clientsPerRun)
    const runIds = (await Promise.all(Array.from({ length: runCount }, () => startRun(api, 'go')))).map((run) => run.runId)
    const started = Date.now()
    const runOf = (index: number): string => runIds[index % runCount] as string
    const early = Math.ceil(clients / 2)
    const results: Promise<number[]>[] = []
    for (let index = 0; index < early; index++) results.push(client(runOf(index)))
    await until(() => open === early)
    gates[0]!.open()
    // Mid-run: the first part is streaming while the rest connect.
    await new Promise((resolve) => setTimeout(resolve, (deltasPerPart * deltaMs) / 2))
    for (let index = early; index < clients; index++) results.push(client(runOf(index)))
    await until(() => open === clients)
    gates[1]!.open()
    const streams = await Promise.all(results)
    const elapsed = Date.now() - started
    const delivered = streams.reduce((sum, seqs) => sum + seqs.length, 0)
    for (const [index, seqs] of streams.entries()) {
      const run = await runtime.getRun(runOf(index))
      expect(run.status).toBe('completed')
      expect(seqs).toEqual(range(1, run.lastSeq))
    }
    expect(peak).toBe(clients)
    console.log(`SSE load: ${clients} clients, all open at once, on ${runCount} live runs: ${delivered} events delivered in ${elapsed} ms`)
  })
})
