import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Runtime, tool, type ModelChunk, type ModelProvider, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

const look = tool({ name: 'look', input: z.object({}), execute: () => 'a room' })

/** A provider that streams `before`, then waits for the abort and reacts to it as `onAbort` says. */
function stallingProvider(before: readonly ModelChunk[], onAbort: 'end' | 'throw-own' | 'keep-yielding', after: readonly ModelChunk[] = []): ModelProvider & { attempts: number } {
  const provider = {
    attempts: 0,
    async *stream(_request: unknown, { signal }: { signal: AbortSignal }): AsyncIterable<ModelChunk> {
      provider.attempts++
      if (provider.attempts > 1) {
        yield* after
        return
      }
      yield* before
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      // An SDK's own error, not the signal's reason.
      if (onAbort === 'throw-own') throw new Error('Request was aborted.')
      if (onAbort === 'keep-yielding') yield { type: 'text-delta', text: 'late' }
    },
  }
  return provider as ModelProvider & { attempts: number }
}

const typesOf = (events: readonly RunEvent[]) => events.map((event) => event.type)

describe('a model turn at its edges', () => {
  it('fails an attempt with provider.timeout when a timed-out provider throws its own abort error, and retries it', async () => {
    const provider = stallingProvider([{ type: 'text-delta', text: 'par' }], 'throw-own', [{ type: 'text-delta', text: 'whole' }, { type: 'finish', reason: 'stop' }])
    const runtime = await Runtime.open({ providers: { p: provider }, routes: { default: { provider: 'p', model: 'm', idleTimeoutMs: 30, retry: { baseDelayMs: 1, maxDelayMs: 1 } } } })
    const run = await runtime.createRun({ input: 'x' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'whole' })
    expect((await collect(run.events())).find((event) => event.type === 'model.retry')?.data).toMatchObject({ error: { code: 'provider.timeout' } })
    await runtime.close()
  })

  it('drops what a provider deaf to the abort streams after its attempt timed out', async () => {
    const provider = stallingProvider([{ type: 'text-delta', text: 'par' }], 'keep-yielding', [{ type: 'text-delta', text: 'whole' }, { type: 'finish', reason: 'stop' }])
    const runtime = await Runtime.open({ providers: { p: provider }, routes: { default: { provider: 'p', model: 'm', idleTimeoutMs: 30, retry: { baseDelayMs: 1, maxDelayMs: 1 } } } })
    const run = await runtime.createRun({ input: 'x' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'whole' })
    const deltas = (await collect(run.events())).filter((event) => event.type === 'message.delta').map((event) => event.data.content)
    expect(deltas).toEqual(['par', 'whole'])
    await runtime.close()
  })

  it('completes no turn that a duration limit ended while the provider ended its stream quietly: the run fails with what was streamed', async () => {
    const provider = stallingProvider([{ type: 'text-delta', text: 'part' }], 'end')
    const runtime = await Runtime.open({ providers: { p: provider }, routes: { default: { provider: 'p', model: 'm' } } })
    const run = await runtime.createRun({ input: 'x', limits: { maxDurationMs: 40 } })
    expect(await run.result()).toMatchObject({ status: 'failed', error: { code: 'run.limit_exceeded' }, content: 'part' })
    expect(typesOf(await collect(run.events()))).toEqual(['run.started', 'message.delta', 'run.failed'])
    await runtime.close()
  })

  it('skips empty deltas, and a turn with no chunk has no time to first chunk', async () => {
    const empty: ModelProvider = {
      async *stream(): AsyncIterable<ModelChunk> {
        yield { type: 'text-delta', text: '' }
        yield { type: 'reasoning-delta', text: '' }
        yield { type: 'finish', reason: 'stop' }
      },
    }
    const runtime = await Runtime.open({ providers: { empty }, routes: { default: { provider: 'empty', model: 'm' } } })
    const run = await runtime.createRun({ input: 'x' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: '' })
    const events = await collect(run.events())
    expect(typesOf(events)).toEqual(['run.started', 'message.completed', 'run.completed'])
    expect(events[1]?.data).toMatchObject({ role: 'assistant', content: '', time_to_first_chunk_ms: null })
    expect(events[1]?.data).not.toHaveProperty('reasoning_content')
    await runtime.close()
  })

  it('hands a turn to the second fallback when the first fails too', async () => {
    const failing = () => scriptedModel(() => [{ error: { code: 'provider.unavailable' } }])
    const spare = failing()
    const last = scriptedModel([reply('from the last')])
    const runtime = await Runtime.open({
      providers: { main: failing(), spare, last },
      routes: {
        default: { provider: 'main', model: 'm', retry: { maxAttempts: 1 }, fallbacks: ['one', 'two'] },
        one: { provider: 'spare', model: 's', retry: { maxAttempts: 1 } },
        two: { provider: 'last', model: 'l' },
      },
    })
    const run = await runtime.createRun({ input: 'x' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'from the last' })
    const fallbacks = (await collect(run.events())).filter((event) => event.type === 'model.fallback').map((event) => event.data)
    expect(fallbacks).toMatchObject([
      { from_route_id: 'default', to_route_id: 'one' },
      { from_route_id: 'one', to_route_id: 'two' },
    ])
    expect(spare.requests).toHaveLength(1)
    await runtime.close()
  })

  it('compacts the history only for a context too long: another refusal fails the run at once', async () => {
    const model = scriptedModel((request) => (request.messages.at(-1)?.content === 'second' ? [{ error: { code: 'provider.bad_request', message: 'no' } }] : callTools({ name: 'look', arguments: {} })))
    const runtime = await Runtime.open({
      providers: { scripted: scriptedModel([reply('first answer')]), other: model },
      routes: { default: { provider: 'scripted', model: 'm' }, other: { provider: 'other', model: 'm' } },
      agents: [{ key: 'a', version: 1, tools: [look] }],
    })
    const session = await runtime.createSession()
    await (await runtime.createRun(session.id, { input: 'first', personaId: 'a' })).result()
    const run = await runtime.createRun(session.id, { input: 'second', personaId: 'a', routeId: 'other' })
    expect(await run.result()).toMatchObject({ status: 'failed', error: { code: 'provider.bad_request' } })
    expect(model.requests).toHaveLength(1)
    expect(typesOf(await collect(run.events()))).not.toContain('model.retry')
    await runtime.close()
  })
  it('drops the reasoning of an attempt that failed, after a retry and after a fallback', async () => {
    const flaky = scriptedModel((_request, _index, attempt) => (attempt === 1 ? [{ reasoning: 'wrong turn' }, { error: { code: 'provider.unavailable' } }] : [{ reasoning: 'right turn' }, { text: 'ok' }]))
    const runtime = await Runtime.open({ providers: { flaky }, routes: { default: { provider: 'flaky', model: 'm', retry: { baseDelayMs: 1, maxDelayMs: 1 } } } })
    expect(await (await runtime.createRun({ input: 'x' })).result()).toMatchObject({ status: 'completed', reasoningContent: 'right turn' })
    await runtime.close()

    const failing = scriptedModel(() => [{ reasoning: 'wrong route' }, { error: { code: 'provider.unavailable' } }])
    const spare = scriptedModel([[{ reasoning: 'spare route' }, { text: 'ok' }]])
    const withFallback = await Runtime.open({
      providers: { failing, spare },
      routes: { default: { provider: 'failing', model: 'm', retry: { maxAttempts: 1 }, fallbacks: ['spare'] }, spare: { provider: 'spare', model: 's' } },
    })
    expect(await (await withFallback.createRun({ input: 'x' })).result()).toMatchObject({ status: 'completed', reasoningContent: 'spare route' })
    await withFallback.close()
  })
})
