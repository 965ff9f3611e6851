/**
 * Stalled readers: how long a live run takes while many SSE clients follow it
 * and never read, beside the same run with no clients. The clients connect
 * as the run starts and never read a byte, so the kernel's socket buffers
 * fill, then the server's queue for each, until the server closes them
 * (`maxBufferedBytes`). The goal: within 1.5x of the run with no clients.
 *
 *   npx tsx bench/stalled-readers.ts
 */
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { pathToFileURL } from 'node:url'
import { createHttpHandler, eventFrame, toNodeListener } from '../adapters/http/index.js'
import { Runtime } from '../src/index.js'
import { scriptedModel, type ScriptStep } from '../src/testing/index.js'

/** Options of {@link benchStalledReaders}. */
export interface StalledReadersBenchOptions {
  /** Clients that connect to the run's event stream and never read. @default 200 */
  clients?: number
  /** Deltas the run streams. @default 1000 */
  deltas?: number
  /** Milliseconds between deltas (the run takes about deltas x delayMs). @default 4 */
  delayMs?: number
  /** Characters of each delta (the run's deltas come to some deltas x deltaChars bytes per client). @default 8000 */
  deltaChars?: number
  /** The handler's `maxBufferedBytes`. @default 1048576 */
  maxBufferedBytes?: number
  /** Measured rounds of each side, interleaved; the median counts. @default 3 */
  rounds?: number
}

/** What {@link benchStalledReaders} measures. */
export interface StalledReadersBenchResult {
  /** Median milliseconds from createRun to the run's end with no clients. */
  aloneMs: number
  /** Median milliseconds from createRun to the run's end with the stalled clients. */
  stalledMs: number
  /** stalledMs / aloneMs. */
  ratio: number
  /** Stalled clients the server had closed when the run ended (median round). */
  closed: number
  /** Bytes the server had written to each closed client, on average (what the kernel's buffers held for it). */
  writtenPerClosed: number
  /** Bytes of frames each client's stream would carry in full. */
  streamBytes: number
  clients: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** A client that sends its request and never reads: its socket is paused before anything arrives. */
function stalledClient(port: number, path: string): Socket {
  const socket = connect(port, '127.0.0.1')
  socket.pause()
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`)
  return socket
}

/** Runs the stalled-readers comparison on loopback. */
export async function benchStalledReaders(options: StalledReadersBenchOptions = {}): Promise<StalledReadersBenchResult> {
  const clients = options.clients ?? 200
  const deltas = options.deltas ?? 1000
  const delayMs = options.delayMs ?? 4
  const deltaChars = options.deltaChars ?? 8000
  const rounds = options.rounds ?? 3
  const steps: ScriptStep[] = []
  for (let index = 0; index < deltas; index++) steps.push({ delay: delayMs }, { text: `${index} `.padEnd(deltaChars, 'x') })
  const runtime = await Runtime.open({
    providers: { model: scriptedModel([steps]) },
    routes: { default: { provider: 'model', model: 'm' } },
    agents: [{ key: 'bench', version: 1 }],
    concurrency: clients + 16,
  })
  let closed = 0
  let written = 0
  const listener = toNodeListener(createHttpHandler(runtime, options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }))
  const server: Server = createServer((request, response) => {
    response.once('close', () => {
      if (response.writableFinished) return
      closed++
      written += response.socket?.bytesWritten ?? 0
    })
    listener(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const session = await runtime.createSession()
  const once = async (stalled: number): Promise<{ ms: number; closed: number; written: number }> => {
    closed = 0
    written = 0
    const started = performance.now()
    const run = await runtime.createRun(session.id, { input: 'go' })
    const sockets = Array.from({ length: stalled }, () => stalledClient(port, `/v1/runs/${run.id}/events`))
    const done = await run.result()
    const ms = performance.now() - started
    const result = { ms, closed, written: closed === 0 ? 0 : written / closed }
    if (done.status !== 'completed') throw new Error(`The run ended ${done.status}`)
    for (const socket of sockets) socket.destroy()
    // Lets the server see every socket go before the next round.
    await new Promise((resolve) => setTimeout(resolve, 200))
    return result
  }
  try {
    await once(0)
    const alone: number[] = []
    const stalled: { ms: number; closed: number; written: number }[] = []
    for (let index = 0; index < rounds; index++) {
      alone.push((await once(0)).ms)
      stalled.push(await once(clients))
    }
    const events = await runtime.listRuns({ sessionId: session.id, limit: 1 })
    let streamBytes = 0
    for await (const event of runtime.runEvents(events[0]?.id as string)) streamBytes += Buffer.byteLength(eventFrame(event))
    const aloneMs = median(alone)
    const stalledMs = median(stalled.map((round) => round.ms))
    return {
      aloneMs,
      stalledMs,
      ratio: stalledMs / aloneMs,
      closed: median(stalled.map((round) => round.closed)),
      writtenPerClosed: median(stalled.map((round) => round.written)),
      streamBytes,
      clients,
    }
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    await runtime.close()
  }
}

/** One line for the bench report. */
export function formatStalledReaders(result: StalledReadersBenchResult): string {
  const mb = (result.streamBytes / 1e6).toFixed(1)
  const held = (result.writtenPerClosed / 1e6).toFixed(1)
  return `Stalled readers (a live run, ${result.clients} SSE clients that never read, ~${mb} MB of frames each): run ${Math.round(result.stalledMs)} ms with them, ${Math.round(result.aloneMs)} ms alone, ratio ${result.ratio.toFixed(2)} (goal at most 1.5); ${result.closed} of ${result.clients} closed by the server before the run ended, after ${held} MB written to each`
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const number = (name: string): number | undefined => (process.env[name] === undefined ? undefined : Number(process.env[name]))
  const options: StalledReadersBenchOptions = {}
  for (const [key, name] of [['clients', 'CLIENTS'], ['deltas', 'DELTAS'], ['delayMs', 'DELAY_MS'], ['deltaChars', 'DELTA_CHARS'], ['maxBufferedBytes', 'MAX_BUFFERED_BYTES'], ['rounds', 'ROUNDS']] as const) {
    const value = number(`HEARTH_BENCH_${name}`)
    if (value !== undefined) options[key] = value
  }
  console.log(formatStalledReaders(await benchStalledReaders(options)))
}
