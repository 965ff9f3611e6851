import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { tool, type RunEvent } from '../../src/index.js'
import { metricsOf, replayRunState } from '../../src/run-state.js'
import { initialMessages } from '../../src/active-run.js'
import { collect, openRuntime, sleep } from '../helpers.js'

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })
const slowTool = tool({ name: 'slow', input: z.object({}), execute: () => sleep(80).then(() => 'slept') })

const at = (event: RunEvent | undefined): number => Date.parse((event as RunEvent).createdAt)
const first = (events: readonly RunEvent[], type: RunEvent['type']) => events.find((event) => event.type === type)
const usage = { inputTokens: 100, outputTokens: 10, cachedInputTokens: 40 }
const pricing = { inputPerMillion: 2, cachedInputPerMillion: 1, outputPerMillion: 8 }

describe('time to first token', () => {
  it('is the first model turn’s, from its request to its first chunk: never the wait for a person or a tool’s work', async () => {
    const { runtime } = await openRuntime(
      [
        [{ delay: 25 }, { toolCall: { name: 'confirm', arguments: {} } }, { usage }],
        [{ toolCall: { name: 'slow', arguments: {} } }, { usage }],
        [{ delay: 60 }, { text: 'done' }, { usage }],
      ],
      { agent: { tools: [confirm, slowTool] } },
    )
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await sleep(150)
    await runtime.submitInput(run.id, { approved: true })
    const done = await run.result()
    const events = await collect(run.events())
    const started = first(events, 'run.started')
    const turn = first(events, 'message.completed')
    const ttft = done.metrics.timeToFirstTokenMs as number
    // At least the model's own delay before its first chunk ...
    expect(ttft).toBeGreaterThanOrEqual(24)
    // ... and within the first turn, read from the log: not the 150 ms wait, nor the tool's 80 ms.
    expect(ttft).toBeLessThanOrEqual(at(turn) - at(started))
    expect(turn).toMatchObject({ data: { time_to_first_chunk_ms: ttft } })
    // Duration is wall time from run.started to the terminal event, the wait for input included.
    expect(done.metrics.durationMs).toBe(at(events.at(-1)) - at(started))
    expect(done.metrics.durationMs).toBeGreaterThanOrEqual(at(first(events, 'run.input_received')) - at(first(events, 'run.waiting_for_input')))
    await runtime.close()
  })

  it('counts a tool call as the first chunk, and a reasoning delta', async () => {
    const { runtime } = await openRuntime(
      (request, index) => {
        const input = request.messages.findLast((message) => message.role === 'user')?.content
        if (input === 'call') return index === 0 ? [{ toolCall: { name: 'confirm', arguments: {} } }, { delay: 60 }, { usage }] : [{ text: 'ok' }]
        return [{ reasoning: 'hmm' }, { delay: 60 }, { text: 'ok' }]
      },
      { agent: { tools: [confirm] } },
    )
    const session = await runtime.createSession()
    const call = await runtime.createRun(session.id, { input: 'call' })
    for await (const event of call.events()) if (event.type === 'run.waiting_for_input') break
    await runtime.submitInput(call.id, { approved: true })
    const think = await runtime.createRun((await runtime.createSession()).id, { input: 'think' })
    for (const run of [call, think]) {
      const done = await run.result()
      const events = await collect(run.events())
      // The chunk came 60 ms before the turn ended: the figure leaves that out.
      expect(done.metrics.timeToFirstTokenMs).not.toBeNull()
      expect(done.metrics.timeToFirstTokenMs as number).toBeLessThanOrEqual(at(first(events, 'message.completed')) - at(first(events, 'run.started')) - 55)
    }
    await runtime.close()
  })

  it('is null when the first turn streamed nothing, or when the run ended inside it', async () => {
    const { runtime } = await openRuntime((request) => {
      const input = request.messages.findLast((message) => message.role === 'user')?.content
      if (input === 'empty') return [{ finish: 'stop' }]
      return [{ text: 'partial ' }, { error: { code: 'provider.unavailable' } }]
    })
    const session = await runtime.createSession()
    expect((await (await runtime.createRun(session.id, { input: 'empty' })).result()).metrics.timeToFirstTokenMs).toBeNull()
    const failed = await (await runtime.createRun(session.id, { input: 'fail' })).result()
    expect(failed).toMatchObject({ status: 'failed', content: 'partial ' })
    expect(failed.metrics.timeToFirstTokenMs).toBeNull()
    await runtime.close()
  })
})

describe('metrics from the log', () => {
  it('are what folding the run’s stored events gives', async () => {
    const { runtime } = await openRuntime(
      [
        [{ delay: 5 }, { toolCall: { name: 'confirm', arguments: {} } }, { usage }],
        [{ reasoning: 'r' }, { text: 'done' }, { usage: { inputTokens: 300, outputTokens: 30, reasoningTokens: 3 } }],
      ],
      { agent: { tools: [confirm] } },
    )
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await runtime.submitInput(run.id, { approved: true })
    const done = await run.result()
    const state = replayRunState(initialMessages(runtime.getAgent(done.personaId), done.input, done.createdAt), await runtime.readEvents(run.id))
    expect(metricsOf(state, state.endedAtMs)).toEqual(done.metrics)
    expect(done.metrics).toMatchObject({ inputTokens: 400, outputTokens: 40, totalTokens: 440, cachedInputTokens: 40, reasoningTokens: 3 })
    await runtime.close()
  })

  it('of a waiting run show the tokens and cost of its finished turns, and no duration yet', async () => {
    const { runtime } = await openRuntime([[{ toolCall: { name: 'confirm', arguments: {} } }, { usage }], [{ text: 'done' }, { usage }]], {
      agent: { tools: [confirm] },
      routes: { default: { provider: 'scripted', model: 'm', pricing } },
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    const waiting = await runtime.getRun(run.id)
    expect(waiting).toMatchObject({
      status: 'waiting_for_input',
      metrics: { inputTokens: 100, outputTokens: 10, totalTokens: 110, cachedInputTokens: 40, reasoningTokens: 0, durationMs: null, timeToFirstTokenMs: expect.any(Number) },
      // (60 uncached * 2 + 40 cached * 1 + 10 * 8) / 1e6
      totalCostUsd: 0.00024,
      cacheHitRate: 0.4,
    })
    await runtime.submitInput(run.id, { approved: true })
    expect((await run.result()).metrics).toMatchObject({ inputTokens: 200, outputTokens: 20, durationMs: expect.any(Number) })
    await runtime.close()
  })

  it('leave the time a run waited in the queue out of its duration', async () => {
    const { runtime } = await openRuntime([reply50()])
    const session = await runtime.createSession()
    const ahead = await runtime.createRun(session.id, { input: 'a' })
    const queued = await runtime.createRun(session.id, { input: 'b' })
    await ahead.result()
    const done = await queued.result()
    const events = await collect(queued.events())
    const aheadEvents = await collect(ahead.events())
    expect(events[0]?.type).toBe('run.queued')
    // It waited for the run ahead to end (a wall-clock gap depends on the machine's load; the order does not).
    expect(at(first(events, 'run.started'))).toBeGreaterThanOrEqual(at(aheadEvents.at(-1)))
    expect(done.metrics.durationMs).toBe(at(events.at(-1)) - at(first(events, 'run.started')))
    await runtime.close()
  })
})

function reply50() {
  return [{ delay: 50 }, { text: 'slow answer' }] as const
}
