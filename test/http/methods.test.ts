/**
 * Methods: the ones a web Request refuses (TRACE, CONNECT, TRACK) are a 405
 * like any other wrong method, never a 500; HEAD answers every GET route like
 * GET without a body, and an event stream's HEAD opens nothing.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { createHttpHandler, toNodeListener } from 'hearth-runtime/http'
import { apiClient, listen, openDemoRuntime, readEvents, startRun, waitForRun, type TestServer } from './support.js'

const logged: unknown[][] = []
const logger = { warn: (...args: unknown[]) => void logged.push(args), error: (...args: unknown[]) => void logged.push(args) }
/** Every `runEvents` call the handler made: a HEAD must make none. */
const readers: string[] = []

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime()
  const runEvents = runtime.runEvents.bind(runtime)
  runtime.runEvents = (runId, options) => {
    readers.push(runId)
    return runEvents(runId, options)
  }
  const listener = toNodeListener(createHttpHandler(runtime, { logger }), { logger })
  // Stands for a method-override middleware: node:http itself never delivers TRACK (its parser answers 400) or CONNECT (a 'connect' event).
  server = await listen((request, response) => {
    const override = request.headers['x-test-method']
    if (typeof override === 'string') request.method = override
    listener(request, response)
  })
  api = apiClient(server.url)
})

beforeEach(() => {
  logged.length = 0
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

/** One request over a raw socket (fetch refuses TRACE): its status line, headers and body. */
function rawRequest(head: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { port } = new URL(server.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(`${head}\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`))
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const [top = '', body = ''] = text.split('\r\n\r\n')
      const [statusLine = '', ...lines] = top.split('\r\n')
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body })
    })
  })
}

/** A chunked body's text, without the chunk sizes. */
function unchunk(body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const end = rest.indexOf('\r\n')
    const size = Number.parseInt(rest.slice(0, end), 16)
    if (!(size > 0)) return out
    out += rest.slice(end + 2, end + 2 + size)
    rest = rest.slice(end + 2 + size + 2)
  }
}

describe('methods a web Request cannot carry', () => {
  it('TRACE through toNodeListener on a real server is a 405 validation.method with Allow, and nothing is logged', async () => {
    for (const [path, allow] of [
      ['/v1/threads', 'GET, HEAD, POST'],
      ['/v1/runs/run_x', 'GET, HEAD'],
      ['/v1/runs/run_x:cancel', 'POST'],
    ] as const) {
      const response = await rawRequest(`TRACE ${path} HTTP/1.1`)
      expect(response.status).toBe(405)
      expect(response.headers.allow).toBe(allow)
      expect(JSON.parse(unchunk(response.body))).toMatchObject({ code: 'validation.method', details: { allow: allow.split(', ') } })
    }
    expect((await rawRequest('TRACE /v1/elsewhere HTTP/1.1')).status).toBe(404)
    expect(logged).toEqual([])
  })

  it('CONNECT and TRACK reaching the listener are 405 too', async () => {
    for (const method of ['CONNECT', 'TRACK', 'track']) {
      const response = await api('GET', '/v1/threads', undefined, { 'x-test-method': method })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('GET, HEAD, POST')
      expect(response.body).toMatchObject({ code: 'validation.method', message: `${method.toUpperCase()} is not allowed here; use GET or HEAD or POST` })
    }
    expect(logged).toEqual([])
  })

  it('the bare handler answers them 405 where a Request can carry them', async () => {
    const handler = createHttpHandler(runtime, { logger })
    for (const method of ['TRACE', 'CONNECT', 'TRACK']) {
      const request = new Request('http://local/v1/threads/thr_x')
      Object.defineProperty(request, 'method', { value: method })
      const response = await handler(request)
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('GET, HEAD, PATCH, DELETE')
      expect(await response.json()).toMatchObject({ code: 'validation.method' })
    }
    expect(logged).toEqual([])
  })
})

describe('HEAD', () => {
  /** GET and HEAD of a path: same status and content type, and HEAD has no body. */
  async function compare(path: string): Promise<Response> {
    const get = await fetch(`${server.url}${path}`)
    await get.arrayBuffer()
    const head = await fetch(`${server.url}${path}`, { method: 'HEAD' })
    expect(head.status).toBe(get.status)
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'))
    expect(head.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
    expect(await head.text()).toBe('')
    return head
  }

  it('answers every GET route like GET, without a body', async () => {
    const { threadId, runId } = await startRun(api, 'hello')
    await waitForRun(api, runId, (run) => run.status === 'completed')
    for (const path of ['/v1/threads', `/v1/threads/${threadId}`, `/v1/threads/${threadId}/runs`, '/v1/runs', `/v1/runs/${runId}`, `/sessions/${threadId}/runs`]) {
      expect((await compare(path)).status).toBe(200)
    }
    // Straight to the handler, without the bridge (which never writes a HEAD body): no body at all.
    const handler = createHttpHandler(runtime, { logger })
    for (const path of ['/v1/threads', `/v1/runs/${runId}`, `/v1/runs/${runId}/events?after_seq=1`]) {
      const response = await handler(new Request(`http://local${path}`, { method: 'HEAD' }))
      expect(response.status).toBe(200)
      expect(response.body).toBeNull()
    }
    expect((await compare('/v1/threads/thr_nope')).status).toBe(404)
    expect((await compare('/v1/runs?limit=0')).status).toBe(400)
    expect((await compare('/v1/nowhere')).status).toBe(404)
  })

  it("of a live run's event stream: 200 with the stream's headers, and no subscription or held connection", async () => {
    // A run waiting for input stays live: a GET would hold its connection open.
    const { runId } = await startRun(api, '/tool send_email {"to": "a@example.com", "subject": "s", "body": "b"}')
    await waitForRun(api, runId, (run) => run.status === 'waiting_for_input')
    readers.length = 0
    const head = await fetch(`${server.url}/v1/runs/${runId}/events`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(head.headers.get('cache-control')).toBe('no-cache')
    expect(await head.text()).toBe('')
    expect(readers).toEqual([])
    await api('POST', `/v1/runs/${runId}:cancel`)
  })

  it("of a finished run's event stream: 204 with nothing left, 200 with events left, 400 and 404 like GET", async () => {
    const { runId } = await startRun(api, 'one two')
    const events = await readEvents(server.url, runId)
    readers.length = 0
    const head = (query: string) => fetch(`${server.url}/v1/runs/${runId}/events${query}`, { method: 'HEAD' })
    expect((await head(`?after_seq=${events.length}`)).status).toBe(204)
    expect((await head(`?after_seq=${events.length - 1}`)).status).toBe(200)
    expect((await head('?after_seq=x')).status).toBe(400)
    expect((await fetch(`${server.url}/v1/runs/run_nope/events`, { method: 'HEAD' })).status).toBe(404)
    expect(readers).toEqual([])
  })

  it('Allow lists HEAD wherever GET is allowed', async () => {
    const put = await api('PUT', '/v1/threads', {})
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST')
    expect(put.body.details.allow).toEqual(['GET', 'HEAD', 'POST'])
    expect((await api('DELETE', '/v1/runs/run_x/events')).headers.get('allow')).toBe('GET, HEAD')
    expect((await api('DELETE', '/sessions/s/runs')).headers.get('allow')).toBe('GET, HEAD')
    expect((await api('GET', '/v1/runs/run_x/input')).headers.get('allow')).toBe('POST')
    expect((await fetch(`${server.url}/v1/runs/run_x:cancel`, { method: 'HEAD' })).status).toBe(405)
  })
})
