import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { apiClient, openDemoRuntime, serveRuntime, startRun, waitForRun, type TestServer } from './support.js'

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime()
  runtime.defineAgent({ key: 'forgetful', version: 1, historyRuns: 0 })
  server = await serveRuntime(runtime)
  api = apiClient(server.url)
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

const finished = (run: any) => ['completed', 'failed', 'cancelled'].includes(run.status)

async function view(threadId: string): Promise<any[]> {
  const response = await api('GET', `/sessions/${threadId}/runs`)
  expect(response.status).toBe(200)
  return response.body
}

const brief = (messages: any[]) => messages.map((message) => [message.role, message.content, message.from_history])
/** A run's own messages after its system prompt (the ones a later run gets as history). */
const own = (run: any): any[] => run.messages.filter((message: any) => !message.from_history).slice(1)

describe('history in the Agno view', () => {
  it('lists the messages a run was sent from earlier runs, from_history: true, read from those runs', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    const first = await startRun(api, 'hello', thread.id)
    await waitForRun(api, first.runId, finished)
    const second = await startRun(api, '/tool add {"a": 1, "b": 2}', thread.id)
    await waitForRun(api, second.runId, finished)
    const failed = await startRun(api, '/fail', thread.id)
    await waitForRun(api, failed.runId, finished)
    const third = await startRun(api, 'again', thread.id)
    await waitForRun(api, third.runId, finished)

    const [one, two, bad, three] = await view(thread.id)
    expect(brief(one.messages)).toEqual([
      ['system', expect.any(String), false],
      ['user', 'hello', false],
      ['assistant', 'You said: hello', false],
    ])
    // The failed run was not sent to the model, so it is not history.
    expect(brief(bad.messages).filter(([, , fromHistory]) => fromHistory)).toEqual(brief([...own(one), ...own(two)]).map(([role, content]) => [role, content, true]))
    expect(own(two).map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant'])
    expect(brief(three.messages)).toEqual([
      ['system', expect.any(String), false],
      ...brief(own(one)).map(([role, content]) => [role, content, true]),
      ...brief(own(two)).map(([role, content]) => [role, content, true]),
      ['user', 'again', false],
      ['assistant', 'You said: again', false],
    ])
    // Expanded whole from the earlier runs' records: the same fields, only from_history differs.
    const history = three.messages.filter((message: any) => message.from_history)
    expect(history).toEqual([...own(one), ...own(two)].map((message) => ({ ...message, from_history: true })))
    // Not copied into the run's own record.
    expect((await runtime.getRun(third.runId)).messages.some((message) => message.fromHistory === true)).toBe(false)
  })

  it('shows no history for an agent that keeps none, and leaves out a history run pruned since', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    const first = await startRun(api, 'one', thread.id)
    await waitForRun(api, first.runId, finished)
    const forgetful = await api('POST', `/v1/threads/${thread.id}/runs`, { input: 'two', persona_id: 'forgetful' })
    await waitForRun(api, forgetful.body.run_id, finished)
    const remembering = await startRun(api, 'three', thread.id)
    await waitForRun(api, remembering.runId, finished)

    let runs = await view(thread.id)
    expect(runs[1].messages.every((message: any) => !message.from_history)).toBe(true)
    expect(brief(runs[2].messages.filter((message: any) => message.from_history))).toEqual([
      ['user', 'one', true],
      ['assistant', 'You said: one', true],
      ['user', 'two', true],
      ['assistant', 'You said: two', true],
    ])

    // Pruning the first two runs leaves the third whole, without their messages.
    const cutoff = new Date(Date.parse((await runtime.getRun(remembering.runId)).completedAt as string))
    await runtime.prune({ finishedBefore: cutoff })
    runs = await view(thread.id)
    expect(runs.map((run) => run.run_id)).toEqual([remembering.runId])
    expect(brief(runs[0].messages)).toEqual([
      ['system', expect.any(String), false],
      ['user', 'three', false],
      ['assistant', 'You said: three', false],
    ])
  })
})
