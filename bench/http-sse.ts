/**
 * SSE benchmark: events per second delivered by hearth-runtime/http (handler, Node
 * bridge, the runtime's event stream on the memory store) beside the floor,
 * a raw `node:http` SSE writer sending the same frames, with the same clients
 * on loopback in the same process run.
 *
 *   npx tsx bench/http-sse.ts
 */
import { request as httpRequest, createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { createHttpHandler, eventFrame, toNodeListener } from '../adapters/http/index.js'
import { Runtime, type RunEvent } from '../src/index.js'
import { reply, scriptedModel } from '../src/testing/index.js'

/** Options of {@link benchHttpSse}. */
export interface HttpSseBenchOptions {
  /** Deltas of the streamed run (its events are these plus a few). @default 5000 */
  deltas?: number
  /** Clients reading the run at once. @default 20 */
  clients?: number
  /** Measured rounds of each side, interleaved; the median counts. @default 5 */
  rounds?: number
}

/** What {@link benchHttpSse} measures. */
export interface HttpSseBenchResult {
  /** Events per second hearth delivered to all clients together (median round). */
  hearthEventsPerSecond: number
  /** Events per second the raw node:http writer delivered (median round). */
  floorEventsPerSecond: number
  /** hearth / floor. */
  ratio: number
  /** Events of the run, and clients per round. */
  events: number
  clients: number
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

/** Reads one SSE response to its end with node:http; resolves with the number of frames. */
function countFrames(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent: false, headers: { Accept: 'text/event-stream' } }, (response) => {
      let frames = 0
      let newline = false
      response.on('data', (chunk: Buffer) => {
        // Frames end with a blank line; JSON never has a raw newline, so "\n\n" only ends frames.
        for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) {
          if (newline && index === 0) frames++
          else if (index > 0 && chunk[index - 1] === 10) frames++
          newline = false
        }
        newline = chunk[chunk.length - 1] === 10
      })
      response.on('end', () => resolve(frames))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end()
  })
}

/** Every client reads `url` at once; events per second over all of them. */
async function round(url: string, clients: number, expected: number): Promise<number> {
  const started = performance.now()
  const counts = await Promise.all(Array.from({ length: clients }, () => countFrames(url)))
  const seconds = (performance.now() - started) / 1000
  for (const count of counts) if (count !== expected) throw new Error(`A client got ${count} frames instead of ${expected}`)
  return (clients * expected) / seconds
}

/** The floor: a node:http server writing each event as a frame, waiting for `drain` when the socket is full. */
function floorServer(events: readonly RunEvent[]): Server {
  return createServer(async (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' })
    for (const event of events) {
      if (!response.write(eventFrame(event))) await new Promise((resolve) => response.once('drain', resolve))
    }
    response.end()
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Streams one finished run to many clients over hearth-runtime/http and over the raw floor. */
export async function benchHttpSse(options: HttpSseBenchOptions = {}): Promise<HttpSseBenchResult> {
  const deltas = options.deltas ?? 5000
  const clients = options.clients ?? 20
  const rounds = options.rounds ?? 5
  const text = Array.from({ length: deltas }, (_, index) => `w${index} `).join('')
  const runtime = await Runtime.open({
    providers: { model: scriptedModel([reply(text, { deltas, usage: { inputTokens: 100, outputTokens: deltas } })]) },
    routes: { default: { provider: 'model', model: 'm' } },
    agents: [{ key: 'bench', version: 1, instructions: 'Be brief.' }],
  })
  const session = await runtime.createSession()
  const run = await runtime.createRun(session.id, { input: 'go' })
  await run.result()
  const events: RunEvent[] = []
  for await (const event of runtime.runEvents(run.id)) events.push(event)

  const hearth = createServer(toNodeListener(createHttpHandler(runtime)))
  const floor = floorServer(events)
  const hearthUrl = `${await listen(hearth)}/v1/runs/${run.id}/events`
  const floorUrl = await listen(floor)
  try {
    await round(hearthUrl, clients, events.length)
    await round(floorUrl, clients, events.length)
    const hearthRates: number[] = []
    const floorRates: number[] = []
    for (let index = 0; index < rounds; index++) {
      hearthRates.push(await round(hearthUrl, clients, events.length))
      floorRates.push(await round(floorUrl, clients, events.length))
    }
    const hearthEventsPerSecond = median(hearthRates)
    const floorEventsPerSecond = median(floorRates)
    return { hearthEventsPerSecond, floorEventsPerSecond, ratio: hearthEventsPerSecond / floorEventsPerSecond, events: events.length, clients }
  } finally {
    await Promise.all([close(hearth), close(floor)])
    await runtime.close()
  }
}

/** One line for the bench report. */
export function formatHttpSse(result: HttpSseBenchResult): string {
  const rate = (value: number): string => `${Math.round(value).toLocaleString('en-US')} events/s`
  return `SSE over loopback (${result.clients} clients reading a ${result.events}-event run): hearth-runtime/http ${rate(result.hearthEventsPerSecond)}, raw node:http writer ${rate(result.floorEventsPerSecond)}, ratio ${result.ratio.toFixed(2)}`
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatHttpSse(await benchHttpSse()))
}
