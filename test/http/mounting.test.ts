import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { createHttpHandler, toNodeListener } from 'hearth-runtime/http'
import { apiClient, listen, openDemoRuntime, openEvents, range, readEvents, seqsOf, sseFrames, startRun, waitForRun, type TestServer } from './support.js'

let runtime: Runtime
/** The abort signals the handler gave `runEvents`, to see readers released. */
const readerSignals: AbortSignal[] = []

beforeAll(async () => {
  runtime = await openDemoRuntime()
  const runEvents = runtime.runEvents.bind(runtime)
  runtime.runEvents = (runId, options = {}) => {
    if (options.signal !== undefined) readerSignals.push(options.signal)
    return runEvents(runId, options)
  }
})

afterAll(async () => {
  await runtime.close()
})

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The same checks through any mount: a run streamed end to end, an error, and a disconnect that releases the readers and leaves the run alone. */
async function exercise(base: string): Promise<void> {
  const api = apiClient(base)
  const { runId } = await startRun(api, '/slow 6 10')
  const events = await readEvents(base, runId)
  expect(seqsOf(events)).toEqual(range(1, events.length))
  expect(events.at(-1)).toMatchObject({ type: 'run.completed', data: { content: 'w0 w1 w2 w3 w4 w5 ' } })
  expect((await api('GET', `/v1/runs/${runId}`)).body.status).toBe('completed')
  expect((await api('POST', '/v1/threads', { nope: 1 })).body.code).toBe('validation.invalid')
  expect((await api('GET', '/v1/elsewhere')).status).toBe(404)

  // A run that waits for a confirmation stays live: nothing but the disconnect releases its readers.
  const live = await startRun(api, '/tool send_email {"to": "a@example.com", "subject": "s", "body": "b"}')
  const abort = new AbortController()
  const response = await openEvents(base, live.runId, { signal: abort.signal })
  let count = 0
  await expect(
    (async () => {
      for await (const frame of sseFrames(response)) {
        // While the client reads, a reader of the run is open: its own, or the run's broadcast.
        if (frame.data !== undefined) expect(readerSignals.some((signal) => !signal.aborted)).toBe(true)
        if (frame.data !== undefined && ++count === 2) abort.abort()
      }
    })(),
  ).rejects.toThrow()
  await until(() => readerSignals.every((signal) => signal.aborted), "the server's readers to be released")
  expect((await waitForRun(api, live.runId, (details) => details.status !== 'running')).status).toBe('waiting_for_input')
  expect((await api('POST', `/v1/runs/${live.runId}/input`, { content: 'yes' })).status).toBe(200)
  const run = await waitForRun(api, live.runId, (details) => details.status !== 'running')
  expect(run.status).toBe('completed')
}

describe('mounted in node:http', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await listen(createServer(toNodeListener(createHttpHandler(runtime, { basePath: '/api' }))))
  })
  afterAll(() => server.close())

  it('serves under basePath', async () => {
    await exercise(`${server.url}/api`)
    expect((await fetch(`${server.url}/v1/threads`)).status).toBe(404)
    expect((await fetch(`${server.url}/apiv1/threads`)).status).toBe(404)
  })
})

describe('mounted in Express', () => {
  let server: TestServer
  beforeAll(async () => {
    const app = express()
    // Mounted at a prefix: Express strips it from req.url, so no basePath.
    app.use('/hearth', toNodeListener(createHttpHandler(runtime)))
    // Behind a body parser that already read the body: the bridge uses what it parsed.
    app.use('/parsed', express.json(), toNodeListener(createHttpHandler(runtime)))
    // A route that keeps the full path: basePath says where the API starts.
    app.all('/full/{*rest}', toNodeListener(createHttpHandler(runtime, { basePath: '/full' })))
    app.get('/health', (_request, response) => {
      response.json({ ok: true })
    })
    server = await listen(createServer(app))
  })
  afterAll(() => server.close())

  it('serves with app.use at a prefix', async () => {
    await exercise(`${server.url}/hearth`)
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true })
  })

  it('serves behind express.json()', async () => {
    await exercise(`${server.url}/parsed`)
  })

  it('serves from app.all with basePath', async () => {
    await exercise(`${server.url}/full`)
  })
})

describe('mounted in Hono', () => {
  let url: string
  let close: () => Promise<void>
  beforeAll(async () => {
    const app = new Hono()
    const handler = createHttpHandler(runtime, { basePath: '/api' })
    app.all('/api/*', (context) => handler(context.req.raw))
    app.mount('/mounted', createHttpHandler(runtime))
    app.get('/health', (context) => context.json({ ok: true }))
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
    })
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as import('node:http').Server).closeAllConnections()
      })
  })
  afterAll(() => close())

  it('serves from app.all with basePath', async () => {
    await exercise(`${url}/api`)
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true })
  })

  it('serves from app.mount', async () => {
    await exercise(`${url}/mounted`)
  })
})
