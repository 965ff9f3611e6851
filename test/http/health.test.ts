/**
 * `GET /v1/health`: no token, `200 { ok: true }` while the store answers a
 * read, 503 with the read's error code when it does not.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { StorageError, type Runtime, type Store } from 'hearth-runtime'
import { createHttpHandler } from 'hearth-runtime/http'
import { apiClient, openDemoRuntime, serveRuntime, type TestServer, storeFailingWhen } from './support.js'

let failure: Error | undefined
const failingStore = (): Store => storeFailingWhen((key) => /^(list|get|read)/.test(key), () => failure)

const logged: unknown[][] = []
const logger = { warn: (...args: unknown[]) => void logged.push(args), error: (...args: unknown[]) => void logged.push(args) }

let runtime: Runtime
let server: TestServer
/** No token: health needs none. */
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime({ store: failingStore() })
  server = await serveRuntime(runtime, { authenticate: (token) => (token === 'right' ? { org_id: 'acme', user_id: null } : null), logger })
  api = apiClient(server.url)
})

beforeEach(() => {
  failure = undefined
  logged.length = 0
})

afterAll(async () => {
  failure = undefined
  await server.close()
  await runtime.close()
})

describe('GET /v1/health', () => {
  it('answers 200 { ok: true } without a token, while every other route needs one', async () => {
    const response = await api('GET', '/v1/health')
    expect(response.status).toBe(200)
    expect(response.body).toEqual({ ok: true })
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(response.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
    expect((await api('GET', '/v1/health', undefined, { Authorization: 'Bearer wrong' })).status).toBe(200)
    expect((await api('GET', '/v1/threads')).status).toBe(401)
  })

  it('answers HEAD like GET, without a body', async () => {
    const head = await fetch(`${server.url}/v1/health`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    failure = new StorageError('storage.failed', 'disk I/O error')
    expect((await fetch(`${server.url}/v1/health`, { method: 'HEAD' })).status).toBe(503)
  })

  it('answers 503 with the storage error in the usual body when the store cannot be read', async () => {
    failure = new StorageError('storage.failed', 'disk I/O error')
    const failed = await api('GET', '/v1/health')
    expect(failed.status).toBe(503)
    expect(failed.body).toEqual({ code: 'storage.failed', message: 'disk I/O error', details: {}, trace_id: failed.headers.get('x-trace-id') })
    failure = new StorageError('storage.busy', 'The database is locked')
    const busy = await api('GET', '/v1/health')
    expect(busy.status).toBe(503)
    expect(busy.body).toMatchObject({ code: 'storage.busy' })
    expect(busy.headers.get('retry-after')).toBe('1')
    // The store's answer is the health check's answer: nothing to log.
    expect(logged).toEqual([])
    failure = undefined
    expect((await api('GET', '/v1/health')).status).toBe(200)
  })

  it('answers 503 internal.error for a bug in the read, logged and not shown', async () => {
    failure = new Error('secret detail')
    const response = await api('GET', '/v1/health')
    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ code: 'internal.error', message: 'Internal error', details: {} })
    expect(logged).toEqual([[expect.stringContaining('internal error'), failure]])
  })

  it('takes only GET and HEAD, and lives under basePath', async () => {
    const post = await api('POST', '/v1/health', {})
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    expect((await api('GET', '/v1/health/x')).status).toBe(404)
    const handler = createHttpHandler(runtime, { basePath: '/api', authenticate: () => null })
    expect(await (await handler(new Request('http://local/api/v1/health'))).json()).toEqual({ ok: true })
    expect((await handler(new Request('http://local/v1/health'))).status).toBe(404)
  })
})
