import { describe, expect, it } from 'vitest'
import { startRun, useDemoServer, waitForRun } from './support.js'

const demo = useDemoServer()

describe('metrics over HTTP', () => {
  it('a waiting run shows the tokens of its finished turns, its time to first token, and no duration yet', async () => {
    const { threadId, runId } = await startRun(demo.api, '/tool send_email {"to":"a@b.c","subject":"s","body":"b"}')
    const waiting = await waitForRun(demo.api, runId, (run) => run.status === 'waiting_for_input')
    expect(waiting.total_input_tokens).toBeGreaterThan(0)
    expect(waiting.total_output_tokens).toBeGreaterThan(0)
    expect(waiting.duration_ms).toBeNull()
    expect(waiting.metrics).toMatchObject({
      input_tokens: waiting.total_input_tokens,
      output_tokens: waiting.total_output_tokens,
      total_tokens: waiting.total_input_tokens + waiting.total_output_tokens,
      time_to_first_token_ms: expect.any(Number),
      duration_ms: null,
    })
    const [item] = (await demo.api('GET', `/v1/threads/${threadId}/runs`)).body
    expect(item).toMatchObject({ run_id: runId, total_input_tokens: waiting.total_input_tokens, duration_ms: null })
    const [agno] = (await demo.api('GET', `/sessions/${threadId}/runs`)).body
    expect(agno.metrics).toEqual({
      input_tokens: waiting.total_input_tokens,
      output_tokens: waiting.total_output_tokens,
      total_tokens: waiting.total_input_tokens + waiting.total_output_tokens,
      time_to_first_token: waiting.metrics.time_to_first_token_ms / 1000,
    })

    await new Promise((resolve) => setTimeout(resolve, 120))
    expect((await demo.api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).status).toBe(200)
    const done = await waitForRun(demo.api, runId, (run) => run.status === 'completed')
    // The time to first token stays the first turn's; the duration holds the 120 ms wait.
    expect(done.metrics.time_to_first_token_ms).toBe(waiting.metrics.time_to_first_token_ms)
    expect(done.duration_ms).toBeGreaterThanOrEqual(120)
    expect(done.total_input_tokens).toBeGreaterThan(waiting.total_input_tokens)
  })
})
