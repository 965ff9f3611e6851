import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { StorageError, type Runtime, type Store } from 'hearth-runtime'
import { createHttpHandler, toNodeListener } from 'hearth-runtime/http'
import { apiClient, openDemoRuntime, serveRuntime, type TestServer, storeFailingWhen } from './support.js'

let failure: Error | undefined
const flakyStore = (): Store => storeFailingWhen((key) => key === 'listSessions' || key === 'getSession', () => failure)

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime({ store: flakyStore() })
  server = await serveRuntime(runtime)
  api = apiClient(server.url)
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

describe('server-side failures', () => {
  it('storage.busy is 503 with Retry-After', async () => {
    failure = new StorageError('storage.busy', 'The database is locked')
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const response = await api('GET', '/v1/threads')
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('1')
      expect(response.body).toMatchObject({ code: 'storage.busy', message: 'The database is locked', trace_id: response.headers.get('x-trace-id') })
    } finally {
      failure = undefined
      log.mockRestore()
    }
  })

  it('a bug is a 500 internal.error: logged with its stack, never shown', async () => {
    failure = new Error('secret detail of a bug')
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const response = await api('GET', '/v1/threads/thr_anything')
      expect(response.status).toBe(500)
      expect(response.body).toEqual({ code: 'internal.error', message: 'Internal error', details: {}, trace_id: response.headers.get('x-trace-id') })
      expect(JSON.stringify(response.body)).not.toContain('secret')
      expect(log).toHaveBeenCalledWith(expect.stringContaining(`(trace ${response.headers.get('x-trace-id')})`), failure)
    } finally {
      failure = undefined
      log.mockRestore()
    }
    expect((await api('GET', '/v1/threads')).status).toBe(200)
  })
})

describe('options', () => {
  it('throws a TypeError naming a bad option', () => {
    expect(() => createHttpHandler({} as Runtime)).toThrow(/`runtime`/)
    expect(() => createHttpHandler(runtime, { basePath: 'api' })).toThrow(/`basePath`.*api/)
    expect(() => createHttpHandler(runtime, { basePath: '/api/' })).toThrow(TypeError)
    expect(() => createHttpHandler(runtime, { pingIntervalMs: 0 })).toThrow(/`pingIntervalMs`/)
    expect(() => createHttpHandler(runtime, { pingIntervalMs: 1.5 })).toThrow(TypeError)
    expect(() => createHttpHandler(runtime, { maxBodyBytes: -1 })).toThrow(/`maxBodyBytes`/)
    expect(() => createHttpHandler(runtime, { authenticate: 'token' as never })).toThrow(/`authenticate`/)
    expect(() => toNodeListener('handler' as never)).toThrow(/`handler`/)
    expect(() => createHttpHandler(runtime, { logger: {} as never })).toThrow(/`logger`/)
    expect(() => toNodeListener(createHttpHandler(runtime), { logger: null as never })).toThrow(/`logger`/)
  })

  it('reports a 5xx to its logger, not the console', async () => {
    const errors: unknown[][] = []
    const handler = createHttpHandler(runtime, { logger: { warn: () => {}, error: (...args) => void errors.push(args) } })
    const console = vi.spyOn(globalThis.console, 'error')
    failure = new Error('a bug')
    try {
      const response = await handler(new Request('http://local/v1/threads'))
      expect(response.status).toBe(500)
      expect(errors).toEqual([[`hearth-runtime/http: internal error (trace ${response.headers.get('x-trace-id')})`, failure]])
      expect(console).not.toHaveBeenCalled()
    } finally {
      failure = undefined
      console.mockRestore()
    }
  })

  it('the handler answers web-standard requests directly, with maxBodyBytes', async () => {
    const handler = createHttpHandler(runtime, { basePath: '/api', maxBodyBytes: 64 })
    const json = { 'Content-Type': 'application/json' }
    const created = await handler(new Request('http://local/api/v1/threads', { method: 'POST', headers: json, body: '{"title":"ok"}' }))
    expect(created.status).toBe(201)
    const big = await handler(new Request('http://local/api/v1/threads', { method: 'POST', headers: json, body: JSON.stringify({ title: 'x'.repeat(100) }) }))
    expect(big.status).toBe(413)
    const odd = await handler(new Request('http://local/api/v1/threads', { method: 'PURGE' }))
    expect(odd.status).toBe(405)
    expect(odd.headers.get('allow')).toBe('GET, HEAD, POST')
    expect((await handler(new Request('http://local/v1/threads'))).status).toBe(404)
  })
})
