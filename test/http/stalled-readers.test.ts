/**
 * A stalled reader slows nobody: a client that stops reading a live run is
 * closed once more than `maxBufferedBytes` of frames wait for it, the run and
 * its other readers go on, and a reconnect with `Last-Event-ID` gets the
 * rest exactly once. Clients that follow a run share one reader of it.
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Runtime, type ModelProvider } from 'hearth-runtime'
import { createHttpHandler, toNodeListener } from 'hearth-runtime/http'
import { apiClient, listen, openEvents, range, readEvents, seqsOf, sseFrames, startRun, type TestServer } from './support.js'

const bound = 64 * 1024
const deltaText = 'x'.repeat(1024)
const maxDeltas = 20_000

/** The model's controls: it streams 1 KiB deltas, each after `gate` opens, until `stop` or `maxDeltas`. */
const flood = { produced: 0, stop: false, gate: Promise.resolve() }
const floodModel: ModelProvider = {
  name: 'flood',
  model: 'flood',
  async *stream() {
    for (let index = 0; index < maxDeltas && !flood.stop; index++) {
      await flood.gate
      await new Promise((resolve) => setTimeout(resolve, 1))
      flood.produced++
      yield { type: 'text-delta', text: deltaText }
    }
    yield { type: 'finish', reason: 'stop' }
  },
}

let runtime: Runtime
let server: TestServer
/** The server side of the requests sent with `x-client: stalled`. */
const stalledResponses: import('node:http').ServerResponse[] = []
/** The abort signals of every reader the handler asked the runtime for. */
const readerSignals: AbortSignal[] = []
const openReaders = (): number => readerSignals.filter((signal) => !signal.aborted).length

beforeAll(async () => {
  runtime = await Runtime.open({
    providers: { flood: floodModel },
    routes: { default: { provider: 'flood', model: 'flood' } },
    agents: [{ key: 'flood', version: 1 }],
  })
  const runEvents = runtime.runEvents.bind(runtime)
  runtime.runEvents = (runId, options = {}) => {
    if (options.signal !== undefined) readerSignals.push(options.signal)
    return runEvents(runId, options)
  }
  const listener = toNodeListener(createHttpHandler(runtime, { maxBufferedBytes: bound, pingIntervalMs: 50 }))
  server = await listen((request, response) => {
    if (request.headers['x-client'] === 'stalled') stalledResponses.push(response)
    listener(request, response)
  })
})

beforeEach(() => {
  flood.produced = 0
  flood.stop = false
  flood.gate = Promise.resolve()
})

afterAll(async () => {
  flood.stop = true
  await server.close()
  await runtime.close()
})

/** A client that sends its request and reads nothing until told to. */
function stalledClient(path: string, headers: Record<string, string> = {}): { socket: Socket; readAll(): Promise<string> } {
  const { port } = new URL(server.url)
  const socket = connect(Number(port), '127.0.0.1')
  socket.pause()
  const lines = Object.entries({ Host: `127.0.0.1:${port}`, 'x-client': 'stalled', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`)
  socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`)
  return {
    socket,
    readAll: () =>
      new Promise((resolve) => {
        const chunks: Buffer[] = []
        socket.on('data', (chunk: Buffer) => chunks.push(chunk))
        socket.on('error', () => {})
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
        socket.resume()
      }),
  }
}

/** The complete SSE frames of a raw, possibly cut, chunked HTTP response. */
function framesOf(raw: string): { id: number; data: any }[] {
  let rest = raw.slice(raw.indexOf('\r\n\r\n') + 4)
  let body = ''
  for (;;) {
    const end = rest.indexOf('\r\n')
    const size = Number.parseInt(rest.slice(0, end), 16)
    if (end === -1 || !(size > 0)) break
    body += rest.slice(end + 2, end + 2 + size)
    if (rest.length < end + 2 + size) break
    rest = rest.slice(end + 2 + size + 2)
  }
  const text = Buffer.from(body, 'latin1').toString('utf8')
  const blocks = text.split('\n\n').slice(0, -1)
  return blocks.filter((block) => block.startsWith('id: ')).map((block) => ({ id: Number(block.split('\n')[0]?.slice(4)), data: JSON.parse(block.split('\n')[1]?.slice(6) ?? '') }))
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  // Bounded by the model: it stops by itself after maxDeltas.
  while (!predicate()) {
    if (flood.produced >= maxDeltas) throw new Error(`${what} did not happen while the run streamed ${maxDeltas} deltas`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('a client that stops reading', () => {
  it('over a real socket: closed once past the bound while the run and a normal reader go on; its reconnect gets the rest exactly once', async () => {
    const api = apiClient(server.url)
    const { runId } = await startRun(api, 'go')
    const normal = readEvents(server.url, runId)
    const stalled = stalledClient(`/v1/runs/${runId}/events`)
    await until(() => stalledResponses.length === 1 && stalledResponses[0]!.destroyed, 'the stalled client being closed')
    // Closed mid-run: nothing waited for it.
    expect((await runtime.getRun(runId)).status).toBe('running')
    const producedAtClose = flood.produced
    flood.stop = true
    const all = await normal
    expect(seqsOf(all)).toEqual(range(1, all.length))
    expect(all.at(-1).type).toBe('run.completed')
    expect(all.length).toBeGreaterThan(producedAtClose)
    const received = framesOf(await stalled.readAll())
    const lastId = received.at(-1)!.id
    expect(received.map((frame) => frame.id)).toEqual(range(1, lastId))
    expect(lastId).toBeLessThan(all.length)
    const rest = await readEvents(server.url, runId, { lastEventId: lastId })
    expect([...received.map((frame) => frame.data), ...rest]).toEqual(all)
  })

  it('straight from the handler: closed once at most the bound and a batch wait for it, counted in events', async () => {
    const handler = createHttpHandler(runtime, { maxBufferedBytes: bound, pingIntervalMs: 60_000 })
    const { runId } = await startRun(apiClient(server.url), 'go')
    const response = await handler(new Request(`http://local/v1/runs/${runId}/events`))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let taken = ''
    // Reads until it follows the live run, then stops reading.
    while (!taken.includes('"type":"message.delta"')) taken += new TextDecoder().decode((await reader.read()).value)
    const lastTaken = Math.max(...[...taken.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1])))
    let behindAtClose = -1
    const closed = reader.closed.catch((error: Error) => {
      behindAtClose = flood.produced + 1 - lastTaken
      return error
    })
    await until(() => behindAtClose !== -1, 'the closing')
    flood.stop = true
    expect(await closed).toMatchObject({ name: 'SlowReaderError' })
    await expect(reader.read()).rejects.toMatchObject({ name: 'SlowReaderError' })
    // Each delta frame is a bit over 1 KiB: closed with at most the bound plus one batch (each 64 KiB at most) waiting, and not before the bound.
    expect(behindAtClose).toBeLessThanOrEqual((2 * bound) / 1024 + 4)
    expect(behindAtClose).toBeGreaterThan(bound / 1100 - 8)
    await runtime.waitForRun(runId)
  })

  it('while it catches up: closed once it has not read for a whole ping interval and more than the bound waits', async () => {
    const { runId } = await startRun(apiClient(server.url), 'go')
    await until(() => flood.produced >= 400, '400 deltas')
    flood.stop = true
    await runtime.waitForRun(runId)
    // A finished run of some 400 KiB: the client takes one batch of the replay and stops.
    const handler = createHttpHandler(runtime, { maxBufferedBytes: bound, pingIntervalMs: 20 })
    const response = await handler(new Request(`http://local/v1/runs/${runId}/events`))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    expect((await reader.read()).done).toBe(false)
    expect(await reader.closed.catch((error: Error) => error)).toMatchObject({ name: 'SlowReaderError' })
  })
})

describe('maxBufferedBytes', () => {
  it('must be a positive integer: a TypeError otherwise', () => {
    for (const maxBufferedBytes of [0, -1, 1.5, '1024', Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createHttpHandler(runtime, { maxBufferedBytes: maxBufferedBytes as number })).toThrow(/`maxBufferedBytes`/)
    }
    expect(() => createHttpHandler(runtime, { maxBufferedBytes: 1 })).not.toThrow()
  })
})

describe('clients that follow a run', () => {
  it('share one reader of it, whatever their number, and each gets every event once', async () => {
    let open!: () => void
    flood.gate = new Promise((resolve) => (open = resolve))
    const { runId } = await startRun(apiClient(server.url), 'go')
    readerSignals.length = 0
    const streams = await Promise.all(Array.from({ length: 10 }, () => openEvents(server.url, runId)))
    const reads = streams.map(async (stream) => {
      const events: any[] = []
      for await (const frame of sseFrames(stream)) if (frame.data !== undefined) events.push(frame.data)
      return events
    })
    // Every client has its own reader until it catches up, then they share one.
    await until(() => readerSignals.length === 11 && openReaders() === 1, 'the clients sharing one reader')
    open()
    await until(() => flood.produced >= 50, '50 deltas')
    flood.stop = true
    const results = await Promise.all(reads)
    const all = await readEvents(server.url, runId)
    for (const events of results) expect(events).toEqual(all)
    expect(openReaders()).toBe(0)
  })

  it('joining a fast live run at any moment, each gets every event once', async () => {
    const { runId } = await startRun(apiClient(server.url), 'go')
    const reads: Promise<any[]>[] = []
    for (let index = 0; index < 40; index++) {
      await until(() => flood.produced >= index * 5, `${index * 5} deltas`)
      reads.push(readEvents(server.url, runId))
    }
    flood.stop = true
    const results = await Promise.all(reads)
    const all = await readEvents(server.url, runId)
    for (const events of results) expect(seqsOf(events)).toEqual(seqsOf(all))
  })
})
