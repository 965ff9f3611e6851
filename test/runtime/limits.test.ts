import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Runtime, silentLogger, tool, type AgentDefinition, type RunEvent } from '../../src/index.js'
import { applyEvent, createRunState, executedMs } from '../../src/run-state.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

const look = tool({ name: 'look', input: z.object({}), execute: () => 'seen' })
const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'ok' })
const usage = (tokens: number) => ({ usage: { inputTokens: tokens, outputTokens: 0 } })

async function open(turns: readonly ScriptedTurn[], agent: Partial<AgentDefinition> = {}, pricing?: { inputPerMillion: number; outputPerMillion: number }) {
  return Runtime.open({
    logger: silentLogger,
    providers: { scripted: scriptedModel(turns) },
    routes: { default: { provider: 'scripted', model: 'm', ...(pricing === undefined ? {} : { pricing }) } },
    agents: [{ key: 'worker', version: 1, tools: [look, confirm], ...agent }],
  })
}

const lookTurn = (tokens: number): ScriptedTurn => [...callTools({ name: 'look', arguments: {} }), usage(tokens)]

describe('run limits', () => {
  it('fails a run past maxTotalTokens after the turn that crossed it, with the limit in its error and its last answer kept', async () => {
    const runtime = await open([[{ text: 'first look' }, ...lookTurn(100)], lookTurn(100), lookTurn(100), reply('never')], { limits: { maxTotalTokens: 250 } })
    const run = await runtime.createRun({ input: 'go' })
    const done = await run.result()
    expect(done).toMatchObject({
      status: 'failed',
      error: { code: 'run.limit_exceeded', message: 'The run crossed its limit of 250 tokens (maxTotalTokens)', details: { limit: 'maxTotalTokens', max: 250, used: 300 } },
      limits: { maxTotalTokens: 250 },
    })
    const failed = (await collect(runtime.runEvents(run.id))).at(-1) as RunEvent
    expect(failed).toMatchObject({ type: 'run.failed', data: { error: { code: 'run.limit_exceeded', details: { limit: 'maxTotalTokens', used: 300 } } } })
    expect(done.messages.filter((message) => message.role === 'assistant')).toHaveLength(3)
    await runtime.close()
  })

  it('fails a run past maxCostUsd, and a run’s own limits override its agent’s', async () => {
    const runtime = await open([lookTurn(1_000_000), reply('done')], { limits: { maxCostUsd: 100, maxTotalTokens: 5_000_000 } }, { inputPerMillion: 2, outputPerMillion: 2 })
    const cheap = await runtime.createRun({ input: 'go', limits: { maxCostUsd: 1.5 } })
    expect(await cheap.result()).toMatchObject({ status: 'failed', error: { details: { limit: 'maxCostUsd', max: 1.5, used: 2 } }, limits: { maxCostUsd: 1.5, maxTotalTokens: 5_000_000 } })
    const roomy = await runtime.createRun({ input: 'go' })
    expect(await roomy.result()).toMatchObject({ status: 'completed', content: 'done', limits: { maxCostUsd: 100 } })
    await runtime.close()
  })

  it('aborts the stream past maxDurationMs and keeps the partial content', async () => {
    const slow: ScriptedTurn = [{ text: 'so ' }, { delay: 40 }, { text: 'far ' }, { delay: 5_000 }, { text: 'never' }]
    const runtime = await open([slow], { limits: { maxDurationMs: 150 } })
    const done = await (await runtime.createRun({ input: 'go' })).result()
    expect(done).toMatchObject({ status: 'failed', content: 'so far ', error: { code: 'run.limit_exceeded', details: { limit: 'maxDurationMs', max: 150 } } })
    expect(typeof (done.error?.details as { used: unknown }).used).toBe('number')
    await runtime.close()
  })

  it('does not count the time a run waits for a person', async () => {
    const runtime = await open([callTools({ name: 'confirm', arguments: {} }), reply('confirmed')], { limits: { maxDurationMs: 150 } })
    const run = await runtime.createRun({ input: 'go' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await new Promise((resolve) => setTimeout(resolve, 300))
    await runtime.submitInput(run.id, { content: 'yes' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'confirmed' })
    await runtime.close()
  })

  it('does not count the time between two answers while a request is still open', async () => {
    const runtime = await open([callTools({ name: 'confirm', arguments: {}, id: 'c1' }, { name: 'confirm', arguments: {}, id: 'c2' }), reply('confirmed')], { limits: { maxDurationMs: 150 } })
    const run = await runtime.createRun({ input: 'go' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await runtime.submitInput(run.id, { content: 'yes', toolCallId: 'c1' })
    // The run still waits for the second answer: this is a person's time, not the run's.
    await new Promise((resolve) => setTimeout(resolve, 300))
    await runtime.submitInput(run.id, { content: 'yes', toolCallId: 'c2' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'confirmed' })
    await runtime.close()
  })

  it('counts the time after an answer: a run that crosses its duration limit after it resumed reports all its execution', async () => {
    const slow = tool({ name: 'slow', needsConfirmation: true, input: z.object({}), execute: () => new Promise((resolve) => setTimeout(() => resolve('late'), 400)) })
    const runtime = await open([callTools({ name: 'slow', arguments: {} }), reply('never')], { tools: [slow], limits: { maxDurationMs: 100 } })
    const run = await runtime.createRun({ input: 'go' })
    for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
    await runtime.submitInput(run.id, { content: 'yes' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'failed', error: { code: 'run.limit_exceeded', details: { limit: 'maxDurationMs', max: 100 } } })
    // The limit's timer fired after the answer, so it reports about its 100 ms (a timer rounds by a millisecond;
    // a loaded machine only adds); counting only the stretch before the wait would report a few.
    expect((done.error?.details as { used: number }).used).toBeGreaterThanOrEqual(95)
    await runtime.close()
  })

  it('checks limits as options', async () => {
    const runtime = await open([reply('x')])
    await expect(runtime.createRun({ input: 'go', limits: { maxTotalTokens: 0 } })).rejects.toMatchObject({ code: 'validation.invalid', message: 'Expected `limits.maxTotalTokens` to be a positive integer, got `0`' })
    await expect(runtime.createRun({ input: 'go', limits: { maxCostUsd: -1 } })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun({ input: 'go', limits: { maxTurns: 3 } as never })).rejects.toMatchObject({ message: expect.stringContaining('Unknown limit `limits.maxTurns`') })
    expect(() => runtime.defineAgent({ key: 'bad', version: 1, limits: { maxDurationMs: 1.5 } })).toThrow(/limits of agent bad.maxDurationMs/)
    expect((await runtime.listRuns()).length).toBe(0)
    await runtime.close()
  })
})

describe('execution time', () => {
  const event = (seq: number, type: RunEvent['type'], data: object): RunEvent => ({ runId: 'run_x', sessionId: 'thr_x', seq, type, data, createdAt: '' }) as RunEvent
  it('counts from run.started, not the time a crashed run was down', () => {
    const state = createRunState([])
    applyEvent(state, event(1, 'run.started', { persona_id: 'a@1', route_id: 'default', model: 'm', model_provider: 's' }), 1_000)
    applyEvent(state, event(2, 'message.delta', { content: 'x', channel: 'text' }), 1_100)
    expect(executedMs(state, 1_150)).toBe(150)
    applyEvent(state, event(3, 'run.resumed', { reason: 'recovered', discard_after_seq: 1 }), 60_000)
    expect(executedMs(state, 60_050)).toBe(150)
    applyEvent(state, event(4, 'run.failed', { error: { code: 'run.interrupted', message: 'x' } }), 60_080)
    expect(executedMs(state, 99_999)).toBe(180)
  })
})
