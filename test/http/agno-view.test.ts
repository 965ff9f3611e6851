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
    providers: { demo: demoModel(), json: scriptedModel([reply('{"answer":"42"}')], { name: 'JSONModel' }) },
    routes: { default: { provider: 'demo', model: 'demo' }, json: { provider: 'json', model: 'json-1' } },
  })
  runtime.defineAgent({ key: 'reporter', version: 1, name: 'Reporter', route: 'json', outputSchema: z.object({ answer: z.string() }) })
  server = await serveRuntime(runtime)
  api = apiClient(server.url)
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

const finished = (run: any) => ['completed', 'failed', 'cancelled'].includes(run.status)

async function view(threadId: string, query = '?type=agent'): Promise<any[]> {
  const response = await api('GET', `/sessions/${threadId}/runs${query}`)
  expect(response.status).toBe(200)
  return response.body
}

describe('the Agno view', () => {
  it("maps a run to the seed's RunSchema, in Agno's units and names", async () => {
    const { body: thread } = await api('POST', '/v1/threads', { user_id: 'u-agno' })
    const { runId } = await startRun(api, '/tool add {"a": 2, "b": 3}', thread.id)
    const details = await waitForRun(api, runId, finished)
    const [run, ...rest] = await view(thread.id, `?type=agent&db_id=${runtime.store.id}`)
    expect(rest).toEqual([])
    expect(Object.keys(run).sort()).toEqual(
      ['agent_session_id', 'content', 'created_at', 'events', 'messages', 'metrics', 'reasoning_content', 'run_id', 'run_input', 'run_response_format', 'user_id'].sort(),
    )
    expect(run).toMatchObject({
      run_id: runId,
      agent_session_id: thread.id,
      user_id: 'u-agno',
      run_input: '/tool add {"a": 2, "b": 3}',
      content: 'add returned 5',
      run_response_format: 'text',
      reasoning_content: null,
      created_at: details.created_at,
    })
    expect(run.metrics).toEqual({
      input_tokens: details.metrics.input_tokens,
      output_tokens: details.metrics.output_tokens,
      total_tokens: details.metrics.total_tokens,
      time_to_first_token: details.metrics.time_to_first_token_ms / 1000,
      duration: details.metrics.duration_ms / 1000,
    })

    const seconds = Math.floor(Date.parse(details.created_at) / 1000)
    expect(run.messages.map((message: any) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant'])
    for (const message of run.messages) {
      expect(message).toMatchObject({ from_history: false, stop_after_tool_call: false, content: expect.any(String) })
      expect(Number.isInteger(message.created_at)).toBe(true)
      expect(Math.abs(message.created_at - seconds)).toBeLessThanOrEqual(1)
    }
    const [, user, call, result, answer] = run.messages
    expect(user.content).toBe('/tool add {"a": 2, "b": 3}')
    expect(call.tool_calls).toEqual([{ id: result.tool_call_id, type: 'function', function: { name: 'add', arguments: '{"a": 2, "b": 3}' } }])
    expect(result).toMatchObject({ content: '5', tool_name: 'add' })
    expect(answer).toMatchObject({ content: 'add returned 5', metrics: { input_tokens: expect.any(Number), output_tokens: expect.any(Number), total_tokens: expect.any(Number) } })

    expect(run.events.map((event: any) => event.event)).toEqual(['RunStarted', 'ToolCallStarted', 'ToolCallCompleted', 'RunCompleted'])
    for (const event of run.events) {
      expect(event).toMatchObject({ agent_id: 'assistant', agent_name: 'Assistant', run_id: runId, session_id: thread.id, model: 'demo', model_provider: 'demo' })
      expect(Number.isInteger(event.created_at)).toBe(true)
    }
    expect(run.events[1].tool).toEqual({ tool_call_id: result.tool_call_id, tool_name: 'add', tool_args: { a: 2, b: 3 }, requires_confirmation: false })
    expect(run.events[2]).toMatchObject({ content: 5, tool: { tool_call_id: result.tool_call_id, tool_name: 'add', tool_args: { a: 2, b: 3 }, result: 5, tool_call_error: false } })
    expect(run.events[3]).toMatchObject({ content: 'add returned 5', content_type: 'str', metrics: run.metrics })
  })

  it('shows pauses, answers, errors and cancellations under Agno names, oldest run first', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    const email = await startRun(api, '/tool send_email {"to":"a@b.c","subject":"s","body":"b"}', thread.id)
    const waiting = await waitForRun(api, email.runId, (run) => run.status === 'waiting_for_input')
    expect((await api('POST', `/v1/runs/${email.runId}/input`, { content: 'no thanks' })).status).toBe(200)
    await waitForRun(api, email.runId, finished)
    const failing = await startRun(api, '/fail', thread.id)
    await waitForRun(api, failing.runId, finished)
    const slow = await startRun(api, '/slow 100 20', thread.id)
    await waitForRun(api, slow.runId, (run) => run.status === 'running')
    expect((await api('POST', `/v1/runs/${slow.runId}:cancel`, { reason: 'bored' })).status).toBe(200)

    const runs = await view(thread.id)
    expect(runs.map((run) => run.run_id)).toEqual([email.runId, failing.runId, slow.runId])
    const [emailRun, failedRun, cancelledRun] = runs
    expect(emailRun.events.map((event: any) => event.event)).toEqual(['RunStarted', 'ToolCallStarted', 'RunPaused', 'RunContinued', 'ToolCallCompleted', 'RunCompleted'])
    const toolCallId = waiting.pending_input[0].tool_call_id
    expect(emailRun.events[2].tools).toEqual([{ tool_call_id: toolCallId, tool_name: 'send_email', tool_args: { to: 'a@b.c', subject: 's', body: 'b' }, requires_confirmation: true }])
    expect(emailRun.events[3].tools).toEqual([{ tool_call_id: toolCallId, confirmed: false, confirmation_note: 'no thanks' }])
    expect(emailRun.events[4].tool).toMatchObject({ tool_call_error: true, error_code: 'tool.denied' })
    expect(failedRun.events.map((event: any) => event.event)).toEqual(['RunStarted', 'RunError'])
    expect(failedRun.events[1]).toMatchObject({ content: expect.stringContaining('/fail'), error: { code: 'provider.unavailable' } })
    expect(failedRun.metrics).not.toHaveProperty('time_to_first_token')
    expect(cancelledRun.events.map((event: any) => event.event)).toEqual(['RunStarted', 'RunCancelled'])
    expect(cancelledRun.events[1]).toMatchObject({ reason: 'bored', content: expect.any(String) })
  })

  it("says json for an agent with an output schema", async () => {
    const { body: thread } = await api('POST', '/v1/threads', { persona_id: 'reporter' })
    const { runId } = await startRun(api, 'report', thread.id)
    await waitForRun(api, runId, finished)
    const [run] = await view(thread.id)
    expect(run).toMatchObject({ content: '{"answer":"42"}', run_response_format: 'json' })
    expect(run.events.at(-1)).toMatchObject({ event: 'RunCompleted', content_type: 'json', agent_id: 'reporter', agent_name: 'Reporter', model: 'json-1', model_provider: 'JSONModel' })
  })

  it('pages through every run of a long session', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    const ids: string[] = []
    for (let index = 0; index < 105; index++) ids.push((await runtime.createRun(thread.id, { input: `n${index}` })).id)
    await runtime.waitForRun(ids.at(-1) as string)
    const runs = await view(thread.id, '')
    expect(runs.map((run) => run.run_id)).toEqual(ids)
  })

  it('answers [] for another session type, 400 for an unknown type, 404 for another db_id or session', async () => {
    const { body: thread } = await api('POST', '/v1/threads', {})
    await waitForRun(api, (await startRun(api, 'x', thread.id)).runId, finished)
    expect(await view(thread.id, '?type=team')).toEqual([])
    expect(await view(thread.id, '?type=workflow')).toEqual([])
    expect((await view(thread.id, '?db_id=memory')).length).toBe(1)
    const badType = await api('GET', `/sessions/${thread.id}/runs?type=crew`)
    expect(badType).toMatchObject({ status: 400, body: { code: 'validation.invalid' } })
    const badDb = await api('GET', `/sessions/${thread.id}/runs?type=agent&db_id=elsewhere`)
    expect(badDb).toMatchObject({ status: 404, body: { code: 'not_found.db' } })
    expect((await api('GET', '/sessions/thr_nope/runs')).body.code).toBe('not_found.thread')
    expect((await api('POST', `/sessions/${thread.id}/runs`, {})).status).toBe(405)
  })
})
