/**
 * Helpers of the HTTP tests: a runtime with the demo model, a real server on
 * 127.0.0.1, a small JSON client and an SSE reader over fetch.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import { afterAll, beforeAll } from 'vitest'
import type { AddressInfo } from 'node:net'
import { memoryStore, Runtime, type RuntimeOptions, type Store } from 'hearth-runtime'
import { createHttpHandler, toNodeListener, type HttpHandlerOptions } from 'hearth-runtime/http'
import { demoAgents } from '../../examples/support/demo-agent.js'
import { demoModel } from '../../examples/support/demo-model.js'

/** A runtime on the memory store with the example server's demo model and agent. */
export function openDemoRuntime(options: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  return Runtime.open({
    providers: { demo: demoModel() },
    routes: { default: { provider: 'demo', model: 'demo' } },
    agents: [...demoAgents],
    concurrency: 256,
    ...options,
  })
}

/** A node:http server on 127.0.0.1 and a free port. */
export interface TestServer {
  url: string
  server: Server
  close(): Promise<void>
}

/** Serves a request listener on 127.0.0.1, port 0. */
export async function listen(listener: RequestListener | Server): Promise<TestServer> {
  const server = typeof listener === 'function' ? createServer(listener) : listener
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A runtime served by the handler through `toNodeListener`. */
export async function serveRuntime(runtime: Runtime, options: HttpHandlerOptions = {}): Promise<TestServer> {
  return listen(toNodeListener(createHttpHandler(runtime, options)))
}

/** A JSON answer. */
export interface ApiResponse<T = any> {
  status: number
  headers: Headers
  body: T
}

/** A small JSON client with an optional bearer token. */
export function apiClient(baseUrl: string, token?: string) {
  return async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const init: RequestInit = { method, headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      ;(init.headers as Record<string, string>)['Content-Type'] ??= 'application/json'
    }
    const response = await fetch(`${baseUrl}${path}`, init)
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) }
  }
}

/** The demo runtime served over HTTP for one test file; usable from its tests on. */
export interface DemoServer {
  readonly runtime: Runtime
  /** The server's base URL, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** A JSON client sending the file's token. */
  readonly api: ReturnType<typeof apiClient>
}

/** Opens the demo runtime and serves it before the file's tests (`http` are the handler's options), closes both after them. */
export function useDemoServer(options: { http?: HttpHandlerOptions; token?: string } = {}): DemoServer {
  let started: { runtime: Runtime; server: TestServer; api: ReturnType<typeof apiClient> } | undefined
  const live = () => {
    if (started === undefined) throw new Error('The demo server starts in beforeAll: use it from a test or a hook')
    return started
  }
  beforeAll(async () => {
    const runtime = await openDemoRuntime()
    const server = await serveRuntime(runtime, options.http)
    started = { runtime, server, api: apiClient(server.url, options.token) }
  })
  afterAll(async () => {
    await started?.server.close()
    await started?.runtime.close()
  })
  return {
    get runtime() {
      return live().runtime
    },
    get url() {
      return live().server.url
    },
    get api() {
      return live().api
    },
  }
}

/** One SSE frame: its `id`, its `data` parsed as JSON, or a comment. */
export interface SseFrame {
  id?: string
  data?: any
  comment?: string
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = {}
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim()
    else if (line.startsWith('id: ')) frame.id = line.slice(4)
    else if (line.startsWith('data: ')) data.push(line.slice(6))
  }
  if (data.length > 0) frame.data = JSON.parse(data.join('\n'))
  return frame
}

/** The frames of an SSE response body, as they arrive. */
export async function* sseFrames(response: Response): AsyncGenerator<SseFrame> {
  if (response.body === null) return
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let end = buffer.indexOf('\n\n')
    while (end !== -1) {
      yield parseFrame(buffer.slice(0, end))
      buffer = buffer.slice(end + 2)
      end = buffer.indexOf('\n\n')
    }
  }
}

/** Opens a run's event stream with fetch. */
export function openEvents(baseUrl: string, runId: string, options: { token?: string; afterSeq?: number; lastEventId?: number; signal?: AbortSignal } = {}): Promise<Response> {
  const query = options.afterSeq === undefined ? '' : `?after_seq=${options.afterSeq}`
  const headers: Record<string, string> = { Accept: 'text/event-stream' }
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = String(options.lastEventId)
  return fetch(`${baseUrl}/v1/runs/${runId}/events${query}`, { headers, ...(options.signal === undefined ? {} : { signal: options.signal }) })
}

/** Every event of a run's stream until it closes. */
export async function readEvents(baseUrl: string, runId: string, options: Parameters<typeof openEvents>[2] = {}): Promise<any[]> {
  const response = await openEvents(baseUrl, runId, options)
  if (response.status !== 200) throw new Error(`Expected 200 from the event stream, got ${response.status}`)
  const events: any[] = []
  for await (const frame of sseFrames(response)) if (frame.data !== undefined) events.push(frame.data)
  return events
}

/** Creates a thread and a run on it; the run's id. */
export async function startRun(api: ReturnType<typeof apiClient>, input: string, thread?: string): Promise<{ threadId: string; runId: string }> {
  const threadId = thread ?? (await api('POST', '/v1/threads', {})).body.id
  const created = await api('POST', `/v1/threads/${threadId}/runs`, { input })
  if (created.status !== 201) throw new Error(`Could not create a run: ${JSON.stringify(created.body)}`)
  return { threadId, runId: created.body.run_id }
}

/** Polls a run until `predicate` holds for its details. */
export async function waitForRun(api: ReturnType<typeof apiClient>, runId: string, predicate: (run: any) => boolean, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { body } = await api('GET', `/v1/runs/${runId}`)
    if (predicate(body)) return body
    if (Date.now() > deadline) throw new Error(`Run ${runId} did not reach the expected state: ${JSON.stringify(body)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Checks that events are exactly seq from..to, once each, in order. */
export function seqsOf(events: readonly { seq: number }[]): number[] {
  return events.map((event) => event.seq)
}

/** from..to inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index)
}

/** The memory store, except that the methods `fails` names reject with `failure()` while it gives an error. */
export function storeFailingWhen(fails: (method: string) => boolean, failure: () => Error | undefined): Store {
  const store = memoryStore()
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const error = typeof key === 'string' && fails(key) ? failure() : undefined
        if (error !== undefined) return Promise.reject(error)
        return (value as (...parameters: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}
