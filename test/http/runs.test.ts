import { describe, expect, it } from 'vitest'
import { makeChildRun } from 'hearth-runtime/testing/contracts'
import { readEvents, startRun, useDemoServer, waitForRun } from './support.js'

const demo = useDemoServer()

const itemKeys = [
  'run_id', 'org_id', 'thread_id', 'status', 'model', 'persona_id', 'total_input_tokens', 'total_output_tokens', 'total_cost_usd',
  'duration_ms', 'cache_hit_rate', 'credits_used', 'created_at', 'completed_at', 'failed_at', 'created_by_user_id',
  'created_by_user_name', 'created_by_email', 'parent_run_id',
]
const detailKeys = [...itemKeys, 'trace_id', 'input', 'message_ids', 'content', 'output', 'reasoning_content', 'error', 'pending_input', 'metrics', 'started_at', 'cancelled_at']

describe('runs', () => {
  it('creates a run: 201 { run_id, trace_id }, then its details and list items', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const created = await demo.api('POST', `/v1/threads/${thread.id}/runs`, { input: 'hello there' })
    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(['run_id', 'trace_id'])
    expect(created.body.trace_id).toMatch(/^[0-9a-f]{32}$/)
    // The request that created the run and the run share one trace, the caller's when it sent one.
    const { body: other } = await demo.api('POST', '/v1/threads', {})
    const traced = await fetch(`${demo.url}/v1/threads/${other.id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace-id': '4bf92f3577b34da6a3ce929d0e0e4736' },
      body: JSON.stringify({ input: 'traced' }),
    })
    expect(traced.headers.get('x-trace-id')).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(await traced.json()).toMatchObject({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' })
    const runId = created.body.run_id
    const done = await waitForRun(demo.api, runId, (run) => run.status === 'completed')
    expect(Object.keys(done).sort()).toEqual([...detailKeys].sort())
    expect(done).toMatchObject({
      run_id: runId,
      org_id: 'default',
      thread_id: thread.id,
      model: 'demo',
      persona_id: 'assistant@1',
      trace_id: created.body.trace_id,
      input: 'hello there',
      message_ids: null,
      content: 'You said: hello there',
      output: null,
      error: null,
      pending_input: [],
      failed_at: null,
      cancelled_at: null,
      created_by_user_id: null,
    })
    expect(done.total_input_tokens).toBeGreaterThan(0)
    expect(done.total_output_tokens).toBeGreaterThan(0)
    expect(done.metrics).toEqual({
      input_tokens: done.total_input_tokens,
      output_tokens: done.total_output_tokens,
      total_tokens: done.total_input_tokens + done.total_output_tokens,
      cached_input_tokens: 0,
      reasoning_tokens: 0,
      time_to_first_token_ms: expect.any(Number),
      duration_ms: done.duration_ms,
    })
    expect(typeof done.completed_at).toBe('string')
    const items = await demo.api('GET', `/v1/threads/${thread.id}/runs`)
    expect(items.status).toBe(200)
    expect(items.body).toHaveLength(1)
    expect(Object.keys(items.body[0]).sort()).toEqual([...itemKeys].sort())
    const { trace_id, input, message_ids, content, output, reasoning_content, error, pending_input, metrics, started_at, cancelled_at, ...item } = done
    expect(items.body[0]).toEqual(item)
  })

  it('lists runs newest first with limit, before and status, in a thread and in the org', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const ids: string[] = []
    for (let index = 0; index < 4; index++) {
      const { runId } = await startRun(demo.api, `run ${index}`, thread.id)
      ids.push(runId)
      await waitForRun(demo.api, runId, (run) => run.status === 'completed')
    }
    const failing = await startRun(demo.api, '/fail', thread.id)
    await waitForRun(demo.api, failing.runId, (run) => run.status === 'failed')
    const page = await demo.api('GET', `/v1/threads/${thread.id}/runs?limit=2`)
    expect(page.body.map((run: any) => run.run_id)).toEqual([failing.runId, ids[3]])
    const next = await demo.api('GET', `/v1/threads/${thread.id}/runs?limit=2&before=${ids[3]}`)
    expect(next.body.map((run: any) => run.run_id)).toEqual([ids[2], ids[1]])
    const failed = await demo.api('GET', `/v1/threads/${thread.id}/runs?status=failed`)
    expect(failed.body.map((run: any) => run.run_id)).toEqual([failing.runId])
    const both = await demo.api('GET', `/v1/threads/${thread.id}/runs?status=failed&status=completed&limit=100`)
    expect(both.body).toHaveLength(5)
    const org = await demo.api('GET', '/v1/runs?limit=3')
    expect(org.body.map((run: any) => run.run_id)).toEqual([failing.runId, ids[3], ids[2]])
    const orgFailed = await demo.api('GET', '/v1/runs?status=failed,cancelled')
    expect(orgFailed.body.every((run: any) => run.status === 'failed' || run.status === 'cancelled')).toBe(true)
  })

  it('lists a run’s children with ?parent_run_id, each naming its parent; top-level runs name none', async () => {
    const { runId } = await startRun(demo.api, 'parent')
    const parent = await demo.runtime.getRun(runId)
    expect((await demo.api('GET', `/v1/runs/${runId}`)).body.parent_run_id).toBeNull()
    // Stored as the runtime's child runs are (the loop that starts them comes with agents as tools).
    const child = makeChildRun(parent, 'call_1', { status: 'completed', completedAt: new Date().toISOString() })
    await demo.runtime.store.commit({ insertRun: child })
    const children = await demo.api('GET', `/v1/runs?parent_run_id=${runId}`)
    expect(children.status).toBe(200)
    expect(children.body.map((run: any) => [run.run_id, run.parent_run_id])).toEqual([[child.id, runId]])
    expect((await demo.api('GET', `/v1/runs/${child.id}`)).body.parent_run_id).toBe(runId)
    expect((await demo.api('GET', '/v1/runs?parent_run_id=run_none')).body).toEqual([])
    expect((await demo.api('GET', '/v1/runs?parent_run_id=')).body.code).toBe('validation.invalid')
    // A cursor from outside the children is a client's mistake.
    expect((await demo.api('GET', `/v1/runs?parent_run_id=${runId}&before=${runId}`)).status).toBe(400)
  })

  it('a failed run shows its error', async () => {
    const { runId } = await startRun(demo.api, '/fail')
    const run = await waitForRun(demo.api, runId, (details) => details.status === 'failed')
    expect(run.error).toEqual({ code: 'provider.unavailable', message: expect.stringContaining('/fail') })
    expect(typeof run.failed_at).toBe('string')
  })

  it('multitask reject on a busy thread is 409 state.thread_busy; enqueue queues', async () => {
    const { threadId, runId } = await startRun(demo.api, '/slow 50 20')
    const rejected = await demo.api('POST', `/v1/threads/${threadId}/runs`, { input: 'me too', multitask: 'reject' })
    expect(rejected.status).toBe(409)
    expect(rejected.body.code).toBe('state.thread_busy')
    const queued = await demo.api('POST', `/v1/threads/${threadId}/runs`, { input: 'after you' })
    expect(queued.status).toBe(201)
    expect((await demo.api('GET', `/v1/runs/${queued.body.run_id}`)).body.status).toBe('queued')
    expect((await demo.api('POST', `/v1/runs/${runId}:cancel`)).status).toBe(200)
    await waitForRun(demo.api, queued.body.run_id, (run) => run.status === 'completed')
  })

  it('client mistakes on runs are 4xx and create nothing', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const cases: [unknown, number, string][] = [
      [{}, 409, 'state.invalid'],
      [{ input: 42 }, 400, 'validation.invalid'],
      [{ input: 'x', extra: true }, 400, 'validation.invalid'],
      [{ input: 'x', multitask: 'sometimes' }, 400, 'validation.invalid'],
      [{ input: 'x', persona_id: 'ghost' }, 404, 'not_found.agent'],
      [{ input: 'x', route_id: 'nowhere' }, 404, 'not_found.model_route'],
      ['{"input": "x"', 400, 'validation.invalid'],
    ]
    for (const [body, status, code] of cases) {
      const response = await demo.api('POST', `/v1/threads/${thread.id}/runs`, body)
      expect({ body, status: response.status, code: response.body.code }).toEqual({ body, status, code })
    }
    expect((await demo.api('GET', `/v1/threads/${thread.id}/runs`)).body).toEqual([])
    expect((await demo.api('POST', '/v1/threads/thr_nope/runs', { input: 'x' })).status).toBe(404)
    expect((await demo.api('GET', '/v1/threads/thr_nope/runs')).body.code).toBe('not_found.thread')
    expect((await demo.api('GET', '/v1/runs/run_nope')).body.code).toBe('not_found.run')
    expect((await demo.api('GET', '/v1/runs?before=run_nope')).status).toBe(400)
    expect((await demo.api('GET', '/v1/runs?status=done')).status).toBe(400)
    expect((await demo.api('GET', '/v1/runs?limit=-1')).status).toBe(400)
    expect((await demo.api('DELETE', '/v1/runs/run_nope')).status).toBe(405)
    expect((await demo.api('GET', '/v1/runs/run_nope:cancel')).status).toBe(405)
    expect((await demo.api('GET', '/v1/runs/run_nope/input')).headers.get('allow')).toBe('POST')
  })
})

describe('cancel', () => {
  it('cancels a live run; a GET right after sees it cancelled', async () => {
    const { runId } = await startRun(demo.api, '/slow 200 20')
    await waitForRun(demo.api, runId, (run) => run.status === 'running')
    const cancelled = await demo.api('POST', `/v1/runs/${runId}:cancel`, { reason: 'enough' })
    expect(cancelled).toMatchObject({ status: 200, body: { ok: true } })
    const run = (await demo.api('GET', `/v1/runs/${runId}`)).body
    expect(run.status).toBe('cancelled')
    expect(typeof run.cancelled_at).toBe('string')
    const events = await readEvents(demo.url, runId)
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'enough' } })
  })

  it('cancels with an empty body, and a finished run is 409', async () => {
    const { runId } = await startRun(demo.api, '/slow 200 20')
    expect((await demo.api('POST', `/v1/runs/${runId}:cancel`)).status).toBe(200)
    const again = await demo.api('POST', `/v1/runs/${runId}:cancel`)
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('state.invalid')
    expect((await demo.api('POST', '/v1/runs/run_nope:cancel')).status).toBe(404)
    expect((await demo.api('POST', `/v1/runs/${runId}:cancel`, { reason: 7 })).status).toBe(400)
  })

  it('cancels a run waiting for input', async () => {
    const { runId } = await startRun(demo.api, '/tool send_email {"to":"a@b.c","subject":"s","body":"b"}')
    await waitForRun(demo.api, runId, (run) => run.status === 'waiting_for_input')
    expect((await demo.api('POST', `/v1/runs/${runId}:cancel`)).status).toBe(200)
    const run = (await demo.api('GET', `/v1/runs/${runId}`)).body
    expect(run).toMatchObject({ status: 'cancelled', pending_input: [] })
    const events = await readEvents(demo.url, runId)
    const result = events.find((event) => event.type === 'tool.result')
    expect(result.data).toMatchObject({ is_error: true, error_code: 'tool.cancelled' })
  })
})

describe('input', () => {
  async function waitingRun(): Promise<{ runId: string; toolCallId: string; run: any }> {
    const { runId } = await startRun(demo.api, '/tool send_email {"to":"ann@example.com","subject":"Hi","body":"Hello"}')
    const run = await waitForRun(demo.api, runId, (details) => details.status === 'waiting_for_input')
    return { runId, toolCallId: run.pending_input[0].tool_call_id, run }
  }

  it('shows the pending request, and `yes` approves: the tool runs and the run completes', async () => {
    const { runId, toolCallId, run } = await waitingRun()
    expect(run.pending_input).toEqual([
      { kind: 'tool_confirmation', tool_call_id: toolCallId, tool: 'send_email', arguments: { to: 'ann@example.com', subject: 'Hi', body: 'Hello' }, prompt: expect.any(String) },
    ])
    const answered = await demo.api('POST', `/v1/runs/${runId}/input`, { content: ' Yes ' })
    expect(answered).toMatchObject({ status: 200, body: { ok: true } })
    const after = (await demo.api('GET', `/v1/runs/${runId}`)).body
    expect(after.pending_input).toEqual([])
    expect(after.status).not.toBe('waiting_for_input')
    const done = await waitForRun(demo.api, runId, (details) => details.status === 'completed')
    expect(done.content).toBe('send_email returned {"sent":true,"to":"ann@example.com"}')
    const events = await readEvents(demo.url, runId)
    expect(events.find((event) => event.type === 'run.input_received').data).toEqual({ tool_call_id: toolCallId, approved: true, content: ' Yes ' })
  })

  it('anything else denies, with content as the reason', async () => {
    const { runId } = await waitingRun()
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'not today' })).status).toBe(200)
    const done = await waitForRun(demo.api, runId, (details) => details.status === 'completed')
    expect(done.content).toBe('send_email returned "The user denied this call: not today"')
  })

  it('approved decides over content, and tool_call_id names the request', async () => {
    const { runId, toolCallId } = await waitingRun()
    const wrong = await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'no', approved: true, tool_call_id: 'call_other' })
    expect(wrong.status).toBe(400)
    expect((await demo.api('GET', `/v1/runs/${runId}`)).body.status).toBe('waiting_for_input')
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'no', approved: true, tool_call_id: toolCallId })).status).toBe(200)
    const done = await waitForRun(demo.api, runId, (details) => details.status === 'completed')
    expect(done.content).toContain('"sent":true')
  })

  it('413 over 32,768 bytes, 400 on a bad body, 409 when not waiting, 404 for no run', async () => {
    const { runId } = await waitingRun()
    const big = await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'é'.repeat(16_385) })
    expect(big.status).toBe(413)
    expect(big.body.code).toBe('validation.too_large')
    const huge = await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'x'.repeat(400_000) })
    expect(huge.status).toBe(413)
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, {})).status).toBe(400)
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'yes', approved: 'yes' })).status).toBe(400)
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'yes', note: 1 })).status).toBe(400)
    expect((await demo.api('GET', `/v1/runs/${runId}`)).body.status).toBe('waiting_for_input')
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'x'.repeat(32_768), approved: true })).status).toBe(200)
    await waitForRun(demo.api, runId, (details) => details.status === 'completed')
    const late = await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })
    expect(late.status).toBe(409)
    expect(late.body.code).toBe('state.invalid')
    expect((await demo.api('POST', '/v1/runs/run_nope/input', { content: 'yes' })).status).toBe(404)
  })
})
