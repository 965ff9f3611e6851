import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { demoModel } from '../../examples/support/demo-model.js'
import { apiClient, openDemoRuntime, serveRuntime, waitForRun, type TestServer } from './support.js'

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime({
    providers: { demo: demoModel() },
    routes: { default: { provider: 'demo', model: 'demo' }, alt: { provider: 'demo', model: 'demo-alt' } },
  })
  runtime.defineAgent({ key: 'routed', version: 1, route: 'alt' })
  server = await serveRuntime(runtime)
  api = apiClient(server.url)
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

describe("'' and null mean the default over HTTP", () => {
  it('for persona_id when a thread is created or patched', async () => {
    for (const persona_id of ['', null]) {
      const created = await api('POST', '/v1/threads', { persona_id })
      expect(created.status).toBe(201)
      expect(created.body.persona_id).toBeNull()
      const set = await api('PATCH', `/v1/threads/${created.body.id}`, { persona_id: 'routed' })
      expect(set).toMatchObject({ status: 200, body: { persona_id: 'routed' } })
      const cleared = await api('PATCH', `/v1/threads/${created.body.id}`, { persona_id })
      expect(cleared).toMatchObject({ status: 200, body: { persona_id: null } })
      // Untouched when left out.
      expect((await api('PATCH', `/v1/threads/${created.body.id}`, { title: 't' })).body.persona_id).toBeNull()
    }
  })

  it('for persona_id and route_id of a run: the thread’s persona and its route', async () => {
    const { body: thread } = await api('POST', '/v1/threads', { persona_id: 'routed' })
    for (const [persona_id, route_id] of [['', ''], [null, null]]) {
      const created = await api('POST', `/v1/threads/${thread.id}/runs`, { input: 'hi', persona_id, route_id })
      expect(created.status).toBe(201)
      const done = await waitForRun(api, created.body.run_id, (run) => run.status === 'completed')
      expect(done).toMatchObject({ persona_id: 'routed@1', model: 'demo-alt' })
    }
    const { body: plain } = await api('POST', '/v1/threads', {})
    const created = await api('POST', `/v1/threads/${plain.id}/runs`, { input: 'hi', persona_id: '', route_id: null })
    expect(await waitForRun(api, created.body.run_id, (run) => run.status === 'completed')).toMatchObject({ persona_id: 'assistant@1', model: 'demo' })
  })

  it('while a persona or route of another type is 400, and an unknown one 404', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/threads', { persona_id: 5 }, 400, 'validation.invalid'],
      ['PATCH', `/v1/threads/${thread.id}`, { persona_id: ['routed'] }, 400, 'validation.invalid'],
      ['PATCH', `/v1/threads/${thread.id}`, { persona_id: 'ghost' }, 404, 'not_found.agent'],
      ['POST', `/v1/threads/${thread.id}/runs`, { input: 'x', persona_id: false }, 400, 'validation.invalid'],
      ['POST', `/v1/threads/${thread.id}/runs`, { input: 'x', route_id: 0 }, 400, 'validation.invalid'],
      ['POST', `/v1/threads/${thread.id}/runs`, { input: 'x', route_id: ' ' }, 404, 'not_found.model_route'],
    ]
    for (const [method, path, body, status, code] of cases) {
      const response = await api(method, path, body)
      expect({ body, status: response.status, code: response.body.code }).toEqual({ body, status, code })
    }
    expect((await api('GET', `/v1/threads/${thread.id}`)).body.persona_id).toBeNull()
    expect((await api('GET', `/v1/threads/${thread.id}/runs`)).body).toEqual([])
  })
})
