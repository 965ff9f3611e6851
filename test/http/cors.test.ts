/**
 * The `cors` option: preflights answered for pages of allowed origins, and
 * `Access-Control-Allow-*` on their answers (errors and event streams too);
 * other origins' writes stay 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { createHttpHandler, type HttpHandlerOptions } from 'hearth-runtime/http'
import { apiClient, openDemoRuntime, openEvents, serveRuntime, sseFrames, startRun, type TestServer } from './support.js'

const app = 'https://app.example'
const evil = 'https://evil.example'
const preflightHeaders = (origin: string, method = 'POST') => ({
  Origin: origin,
  'Access-Control-Request-Method': method,
  'Access-Control-Request-Headers': 'content-type,authorization',
})

let runtime: Runtime
const servers: TestServer[] = []

beforeAll(async () => {
  runtime = await openDemoRuntime()
})

afterAll(async () => {
  for (const server of servers) await server.close()
  await runtime.close()
})

async function serve(cors: HttpHandlerOptions['cors']): Promise<string> {
  const server = await serveRuntime(runtime, { cors })
  servers.push(server)
  return server.url
}

describe('cors with a list of origins', () => {
  let url: string
  beforeAll(async () => {
    url = await serve({ origins: [app, 'app://main'] })
  })

  it('answers the preflight of an allowed origin: 204 with the route\'s methods, the headers a page sends and a max-age', async () => {
    const response = await fetch(`${url}/v1/threads`, { method: 'OPTIONS', headers: preflightHeaders(app) })
    expect(response.status).toBe(204)
    expect(await response.text()).toBe('')
    expect(Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary' || name === 'allow'))).toEqual({
      'access-control-allow-origin': app,
      'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, Last-Event-ID, X-Trace-Id, traceparent',
      'access-control-max-age': '600',
      'access-control-expose-headers': 'X-Trace-Id, traceparent',
      allow: 'GET, HEAD, POST, OPTIONS',
      vary: 'Origin',
    })
    const input = await fetch(`${url}/v1/runs/run_x/input`, { method: 'OPTIONS', headers: preflightHeaders('app://main') })
    expect(input.status).toBe(204)
    expect(input.headers.get('access-control-allow-origin')).toBe('app://main')
    expect(input.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS')
  })

  it('refuses the preflight of another origin with 403, and of an unknown path with 404', async () => {
    const refused = await fetch(`${url}/v1/threads`, { method: 'OPTIONS', headers: preflightHeaders(evil) })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as any).code).toBe('auth.forbidden_origin')
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    expect((await fetch(`${url}/v1/nowhere`, { method: 'OPTIONS', headers: preflightHeaders(app) })).status).toBe(404)
    // Without Origin, OPTIONS lists the methods and nothing else.
    const bare = await fetch(`${url}/v1/threads`, { method: 'OPTIONS' })
    expect(bare.status).toBe(204)
    expect(bare.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS')
    expect(bare.headers.get('access-control-allow-origin')).toBeNull()
  })

  it("marks every answer to an allowed origin, errors and event streams included, and never another origin's", async () => {
    const api = apiClient(url)
    const created = await api('POST', '/v1/threads', {}, { Origin: app })
    expect(created.status).toBe(201)
    expect(created.headers.get('access-control-allow-origin')).toBe(app)
    expect(created.headers.get('access-control-expose-headers')).toBe('X-Trace-Id, traceparent')
    expect(created.headers.get('access-control-allow-credentials')).toBeNull()
    expect(created.headers.get('vary')).toBe('Origin')
    const failed = await api('POST', '/v1/threads', { nope: 1 }, { Origin: app })
    expect(failed.status).toBe(400)
    expect(failed.headers.get('access-control-allow-origin')).toBe(app)
    const { runId } = await startRun(api, 'hello')
    const stream = await fetch(`${url}/v1/runs/${runId}/events`, { headers: { Origin: app } })
    expect(stream.headers.get('access-control-allow-origin')).toBe(app)
    for await (const frame of sseFrames(stream)) void frame
    const read = await api('GET', '/v1/threads', undefined, { Origin: evil })
    expect(read.status).toBe(200)
    expect(read.headers.get('access-control-allow-origin')).toBeNull()
    expect(read.headers.get('vary')).toBe('Origin')
    const write = await api('POST', '/v1/threads', {}, { Origin: evil })
    expect(write.status).toBe(403)
    expect(write.headers.get('access-control-allow-origin')).toBeNull()
    expect((await api('POST', '/v1/threads', {}, { Origin: 'null' })).status).toBe(403)
  })
})

describe("cors with '*'", () => {
  it('allows every origin, Origin: null too, with `*` and no Vary', async () => {
    const url = await serve({ origins: '*' })
    const preflight = await fetch(`${url}/v1/threads/thr_x`, { method: 'OPTIONS', headers: preflightHeaders(evil, 'PATCH') })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, PATCH, DELETE, OPTIONS')
    expect(preflight.headers.get('vary')).toBeNull()
    const api = apiClient(url)
    for (const origin of [evil, 'null']) {
      const created = await api('POST', '/v1/threads', {}, { Origin: origin })
      expect(created.status).toBe(201)
      expect(created.headers.get('access-control-allow-origin')).toBe('*')
    }
    // The answer does not depend on the origin, so it says `*` to everyone.
    expect((await api('GET', '/v1/threads')).headers.get('access-control-allow-origin')).toBe('*')
  })

  it('with credentials, echoes the origin instead of `*`', async () => {
    const url = await serve({ origins: '*', credentials: true })
    const preflight = await fetch(`${url}/v1/threads`, { method: 'OPTIONS', headers: preflightHeaders(evil) })
    expect(preflight.headers.get('access-control-allow-origin')).toBe(evil)
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true')
    expect(preflight.headers.get('vary')).toBe('Origin')
    const created = await apiClient(url)('POST', '/v1/threads', {}, { Origin: evil })
    expect(created.headers.get('access-control-allow-origin')).toBe(evil)
    expect(created.headers.get('access-control-allow-credentials')).toBe('true')
    const events = await openEvents(url, 'run_nope')
    expect(events.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('cors with credentials and a list', () => {
  it('sends Access-Control-Allow-Credentials to the allowed origins only', async () => {
    const url = await serve({ origins: [app], credentials: true })
    const api = apiClient(url)
    const allowed = await api('GET', '/v1/threads', undefined, { Origin: app })
    expect(allowed.headers.get('access-control-allow-origin')).toBe(app)
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true')
    const other = await api('GET', '/v1/threads', undefined, { Origin: evil })
    expect(other.headers.get('access-control-allow-credentials')).toBeNull()
  })
})

describe('bad cors options', () => {
  it('are a TypeError naming the option', () => {
    for (const cors of [
      'https://app.example',
      null,
      [app],
      {},
      { origins: [] },
      { origins: 'https://app.example' },
      { origins: ['*'] },
      { origins: ['app.example'] },
      { origins: ['https://app.example/'] },
      { origins: ['https://app.example:443'] },
      { origins: [42] },
      { origins: [app], credentials: 'yes' },
      { origin: [app] },
    ]) {
      expect(() => createHttpHandler(runtime, { cors: cors as never }), JSON.stringify(cors)).toThrow(/`cors/)
    }
    expect(() => createHttpHandler(runtime, { cors: { origins: ['https://app.example:443'] } })).toThrow(/`https:\/\/app\.example`\?/)
    expect(() => createHttpHandler(runtime, { cors: { origins: [app], origin: app } as never })).toThrow(/Unknown `cors` option `origin`/)
    expect(() => createHttpHandler(runtime, { cors: { origins: ['HTTPS://App.Example', 'http://[::1]:8080', 'null'] } })).not.toThrow()
  })
})
