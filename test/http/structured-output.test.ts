import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Runtime } from 'hearth-runtime'
import { reply, scriptedModel } from 'hearth-runtime/testing'
import { demoModel } from '../../examples/support/demo-model.js'
import { apiClient, openDemoRuntime, serveRuntime, startRun, waitForRun, type TestServer } from './support.js'

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime({
    providers: { demo: demoModel(), json: scriptedModel([reply('{"answer":"42","sources":["a","b"]}')]) },
    routes: { default: { provider: 'demo', model: 'demo' }, json: { provider: 'json', model: 'json-1' } },
  })
  runtime.defineAgent({ key: 'reporter', version: 1, route: 'json', outputSchema: z.object({ answer: z.string(), sources: z.array(z.string()) }) })
  server = await serveRuntime(runtime)
  api = apiClient(server.url)
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

describe('structured output over HTTP', () => {
  it('run details carry output: the validated value for an agent with an output schema, else null', async () => {
    const { body: thread } = await api('POST', '/v1/threads', { persona_id: 'reporter' })
    const { runId } = await startRun(api, 'report', thread.id)
    const done = await waitForRun(api, runId, (run) => run.status === 'completed')
    expect(done).toMatchObject({ content: '{"answer":"42","sources":["a","b"]}', output: { answer: '42', sources: ['a', 'b'] } })
    // List items stay as the seed has them.
    expect((await api('GET', `/v1/threads/${thread.id}/runs`)).body[0]).not.toHaveProperty('output')
    const text = await startRun(api, 'hello')
    expect(await waitForRun(api, text.runId, (run) => run.status === 'completed')).toMatchObject({ content: 'You said: hello', output: null })
  })
})
