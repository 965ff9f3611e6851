import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { apiClient, openDemoRuntime, serveRuntime, startRun, waitForRun, type TestServer } from './support.js'

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime()
  runtime.defineAgent({ key: 'forgetful', version: 1, historyRuns: 0 })
  runtime.defineAgent({ key: 'tight', version: 1, context: { maxInputTokens: 700 } })
  runtime.defineAgent({ key: 'summing', version: 1, context: { maxInputTokens: 500, strategy: 'summarize', keepLastTurns: 1 } })
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

async function collectEvents(runId: string): Promise<any[]> {
  const events: any[] = []
  for await (const event of runtime.runEvents(runId)) events.push(event)
  return events
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

  it('lists only the runs a trimmed run was last sent, and the summary a summarizing run and the runs after it were sent', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    const ids: string[] = []
    for (let index = 0; index < 4; index++) {
      const run = await startRun(api, `fact ${index} ${'pad '.repeat(100)}`, thread.id)
      await waitForRun(api, run.runId, finished)
      ids.push(run.runId)
    }
    const tight = await api('POST', `/v1/threads/${thread.id}/runs`, { input: 'short', persona_id: 'tight' })
    await waitForRun(api, tight.body.run_id, finished)
    const events = await collectEvents(tight.body.run_id)
    const trimmed = events.find((event) => event.type === 'context.trimmed')
    expect(trimmed?.data.dropped_run_ids.length).toBeGreaterThan(0)
    const kept: string[] = trimmed?.data.history_run_ids
    let runs = await view(thread.id)
    const byId = new Map(runs.map((run) => [run.run_id, run]))
    const sent = byId.get(tight.body.run_id).messages.filter((message: any) => message.from_history)
    expect(brief(sent)).toEqual(kept.flatMap((id) => brief(own(byId.get(id)))).map(([role, content]) => [role, content, true]))

    const summing = await api('POST', `/v1/threads/${thread.id}/runs`, { input: 'sum up', persona_id: 'summing' })
    await waitForRun(api, summing.body.run_id, finished)
    const summarized = (await collectEvents(summing.body.run_id)).find((event) => event.type === 'context.summarized')
    expect(summarized?.data.summary).toContain('fact 0')
    const after = await api('POST', `/v1/threads/${thread.id}/runs`, { input: 'and now', persona_id: 'summing' })
    await waitForRun(api, after.body.run_id, finished)
    runs = await view(thread.id)
    for (const runId of [summing.body.run_id, after.body.run_id]) {
      const history = runs.find((run) => run.run_id === runId).messages.filter((message: any) => message.from_history)
      expect(history[0]).toMatchObject({ role: 'system', content: `Summary of the earlier conversation:\n${summarized?.data.summary}`, from_history: true })
    }
  })
})
