import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { memoryStore, Runtime, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedModel } from '../../src/testing/index.js'
import { makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { collect } from '../helpers.js'

const lookup = tool({ name: 'lookup', input: z.object({ id: z.string() }), idempotent: true, execute: ({ id }) => `found ${id}` })
const answer = z.object({ answer: z.string() })

const logged: unknown[][] = []

function open(model: ScriptedModel, store = memoryStore()) {
  return Runtime.open({
    store,
    logger: { warn: () => {}, error: (...args: unknown[]) => void logged.push(args) },
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'plain', version: 1, tools: [lookup] },
      { key: 'strict', version: 1, outputSchema: answer },
    ],
  })
}

describe('what a finished run’s record holds', () => {
  it('a completed run: completedAt only, no reasoning, no output, and run.completed carries the content and the metrics', async () => {
    const runtime = await open(scriptedModel([reply('Done.', { usage: { inputTokens: 7, outputTokens: 3 } })]))
    const run = await runtime.createRun({ input: 'x', personaId: 'plain' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Done.', reasoningContent: null, output: null, error: null, failedAt: null, cancelledAt: null })
    expect(done.completedAt).not.toBeNull()
    const completed = (await collect(run.events())).at(-1) as RunEvent
    expect(completed).toMatchObject({ type: 'run.completed', data: { content: 'Done.', metrics: { input_tokens: 7, output_tokens: 3, total_tokens: 10 } } })
    // A provider that writes nothing to its cache leaves the field out.
    const turn = (await collect(run.events())).find((event) => event.type === 'message.completed')
    expect(turn?.data).toMatchObject({ usage: { input_tokens: 7, output_tokens: 3 } })
    expect(turn?.data).not.toHaveProperty('usage.cache_write_input_tokens')
    await runtime.close()
  })

  it('a failed run: failedAt only; a cancelled one: cancelledAt only, with the reasoning it had streamed', async () => {
    const runtime = await open(
      scriptedModel((request) =>
        request.messages.at(-1)?.content === 'fail' ? [{ error: { code: 'provider.bad_request', message: 'no' } }] : [{ reasoning: 'hmm, ' }, { reasoning: 'let me think' }, { delay: 600_000 }],
      ),
    )
    const failed = await (await runtime.createRun({ input: 'fail', personaId: 'plain' })).result()
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'provider.bad_request' }, completedAt: null, cancelledAt: null, reasoningContent: null })
    expect(failed.failedAt).not.toBeNull()
    // A provider's refusal is the run's outcome, not a fault of hearth's: nothing is logged.
    expect(logged).toEqual([])

    const thinking = await runtime.createRun({ input: 'think', personaId: 'plain' })
    for await (const event of thinking.events()) if (event.type === 'message.delta' && event.data.content === 'let me think') break
    await runtime.cancelRun(thinking.id)
    const cancelled = await runtime.getRun(thinking.id)
    expect(cancelled).toMatchObject({ status: 'cancelled', completedAt: null, failedAt: null, reasoningContent: 'hmm, let me think' })
    expect(cancelled.cancelledAt).not.toBeNull()
    await runtime.close()
  })

  it('sums every turn’s usage into the run’s metrics and prices cache writes', async () => {
    const usage = { inputTokens: 100, outputTokens: 10, cachedInputTokens: 40, cacheWriteInputTokens: 20, reasoningTokens: 5 }
    const runtime = await Runtime.open({
      providers: { scripted: scriptedModel([[...callTools({ name: 'lookup', arguments: { id: 'a' } }), { usage }], [{ text: 'Found.' }, { usage }]]) },
      routes: { default: { provider: 'scripted', model: 'm', pricing: { inputPerMillion: 1, cachedInputPerMillion: 0.5, cacheWritePerMillion: 2, outputPerMillion: 4 } } },
      agents: [{ key: 'plain', version: 1, tools: [lookup] }],
    })
    const done = await (await runtime.createRun({ input: 'x', personaId: 'plain' })).result()
    expect(done.metrics).toMatchObject({ inputTokens: 200, outputTokens: 20, totalTokens: 220, cachedInputTokens: 80, reasoningTokens: 10 })
    // Per turn: 40 uncached x 1 + 40 cached x 0.5 + 20 written x 2 + 10 out x 4 = 140; two turns, per million.
    expect(done.totalCostUsd).toBe(0.00028)
    await runtime.close()
  })

  it('keeps the reasoning of every turn, a blank line between them', async () => {
    const runtime = await open(scriptedModel([[{ reasoning: 'First, look.' }, ...callTools({ name: 'lookup', arguments: { id: 'a' } })], [{ reasoning: 'Now answer.' }, { text: 'Found.' }]]))
    expect(await (await runtime.createRun({ input: 'x', personaId: 'plain' })).result()).toMatchObject({ status: 'completed', reasoningContent: 'First, look.\n\nNow answer.' })
    await runtime.close()
  })

  it('says why a final answer misses the output schema: not JSON, or not its shape', async () => {
    const runtime = await open(scriptedModel((request) => reply(request.messages.at(-1)?.content === 'prose' ? 'just words' : '{"answer": 7}')))
    expect(await (await runtime.createRun({ input: 'prose', personaId: 'strict' })).result()).toMatchObject({
      status: 'failed',
      error: { code: 'run.output_invalid', message: 'The final answer is not valid JSON' },
    })
    const shape = await (await runtime.createRun({ input: 'shape', personaId: 'strict' })).result()
    expect(shape.error).toMatchObject({ code: 'run.output_invalid' })
    expect(shape.error?.message).toMatch(/^The final answer does not match the output schema: .*answer/s)
    await runtime.close()
  })

  it('fails a recovered run already past its duration limit at once, spending no turn, with no answer taken from a tool’s output', async () => {
    const store = memoryStore()
    await store.open()
    const dead = { id: 'own_dead', pid: 2 ** 22 + 12345, host: hostname(), startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString() }
    await store.registerOwner(dead)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'plain@1', routeId: 'default', model: 'm', status: 'running', input: 'x', limits: { maxDurationMs: 1000 }, startedAt: new Date().toISOString() })
    await store.commit({ insertRun: run, ownerId: dead.id })
    // The crashed process had executed it for 5 s, past its 1 s limit, before it died.
    const base = { runId: run.id, sessionId: session.id, createdAt: new Date(Date.now() - 5_000).toISOString() }
    await store.commit({
      events: [
        { ...base, createdAt: new Date(Date.now() - 10_000).toISOString(), seq: 1, type: 'run.started', data: { persona_id: 'plain@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        {
          ...base,
          seq: 2,
          type: 'message.completed',
          data: { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'lookup', arguments: '{"id":"o1"}' }], usage: { input_tokens: 90, output_tokens: 10, cached_input_tokens: 0, reasoning_tokens: 0 } },
        },
        { ...base, seq: 3, type: 'tool.call', data: { tool_call_id: 'c1', name: 'lookup', arguments: { id: 'o1' }, requires_confirmation: false } },
        { ...base, seq: 4, type: 'tool.result', data: { tool_call_id: 'c1', name: 'lookup', output: 'found o1', is_error: false } },
      ],
    })
    const model = scriptedModel([reply('never')])
    const runtime = await open(model, store)
    const done = await runtime.waitForRun(run.id)
    expect(done).toMatchObject({ status: 'failed', error: { code: 'run.limit_exceeded' }, content: '' })
    expect(model.requests).toHaveLength(0)
    await runtime.close()
  })
})
