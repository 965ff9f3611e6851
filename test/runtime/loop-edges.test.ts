import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { memoryStore, Runtime, tool, type ModelChunk, type ModelProvider, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

const look = tool({ name: 'look', input: z.object({}), execute: () => 'a room' })

async function eventsOf(runtime: Runtime, runId: string): Promise<RunEvent[]> {
  return collect(runtime.runEvents(runId))
}

describe('the loop at its edges', () => {
  it('keeps a stream alive past idleTimeoutMs while chunks keep coming, and ends it once they stop', async () => {
    // Attempt 1 streams for longer than the idle window, then stalls; attempt 2 streams steadily to the end.
    // Chunks 20 ms apart for 300 ms, well past the 150 ms window, with a wide margin for a loaded machine.
    const text = Array.from({ length: 20 }, (_, index) => `w${index} `).join('')
    const steady = reply(text, { delayMs: 20 })
    const model = scriptedModel((_request, _index, attempt) => (attempt === 1 ? [...steady.slice(0, 30), { delay: 600_000 }] : steady))
    const runtime = await Runtime.open({
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm', firstChunkTimeoutMs: 150, idleTimeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } } },
    })
    const run = await runtime.createRun({ input: 'count' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: text })
    expect(model.requests).toHaveLength(2)
    const retries = (await eventsOf(runtime, run.id)).filter((event) => event.type === 'model.retry')
    expect(retries.map((event) => event.data.error)).toEqual([{ code: 'provider.timeout', message: 'The provider did not answer in time: it sent nothing for 150 ms mid-stream' }])
    await runtime.close()
  })

  it('retries a stream that timed out in a run with a duration limit, on a fresh signal', async () => {
    const model = scriptedModel((_request, _index, attempt) => (attempt === 1 ? [{ delay: 600_000 }, { text: 'never' }] : reply('second try')))
    const runtime = await Runtime.open({
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm', firstChunkTimeoutMs: 40, retry: { baseDelayMs: 1, maxDelayMs: 1 } } },
    })
    const run = await runtime.createRun({ input: 'x', limits: { maxDurationMs: 60_000 } })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'second try' })
    const retries = (await eventsOf(runtime, run.id)).filter((event) => event.type === 'model.retry')
    expect(retries.map((event) => event.data)).toMatchObject([{ attempt: 1, error: { code: 'provider.timeout' } }])
    await runtime.close()
  })

  it('fails an attempt whose provider ends its stream quietly when the timeout aborts it, and retries it', async () => {
    const attempts: number[] = []
    const quiet: ModelProvider = {
      async *stream(_request, { signal, attempt }): AsyncIterable<ModelChunk> {
        attempts.push(attempt ?? 0)
        if (attempt === 1) {
          // Some SDKs end the iteration without an error when their request is aborted.
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
          return
        }
        yield { type: 'text-delta', text: 'answered' }
        yield { type: 'finish', reason: 'stop' }
      },
    }
    const runtime = await Runtime.open({ providers: { quiet }, routes: { default: { provider: 'quiet', model: 'm', firstChunkTimeoutMs: 40, retry: { baseDelayMs: 1, maxDelayMs: 1 } } } })
    const run = await runtime.createRun({ input: 'x' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'answered' })
    expect(attempts).toEqual([1, 2])
    expect((await eventsOf(runtime, run.id)).find((event) => event.type === 'model.retry')?.data).toMatchObject({ attempt: 1, error: { code: 'provider.timeout' } })
    await runtime.close()
  })

  it('sums the tokens of every turn a fallback served, cache writes included, and prices them by that route', async () => {
    const main = scriptedModel(() => [{ error: { code: 'provider.unavailable' } }])
    const backup = scriptedModel([
      [{ toolCall: { name: 'look', arguments: {} } }, { usage: { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 200, cacheWriteInputTokens: 400 } }],
      [{ text: 'done' }, { usage: { inputTokens: 2000, outputTokens: 200, cachedInputTokens: 300, cacheWriteInputTokens: 600 } }],
    ])
    const runtime = await Runtime.open({
      providers: { main, backup },
      routes: {
        default: { provider: 'main', model: 'm', retry: { maxAttempts: 1 }, fallbacks: ['spare'], pricing: { inputPerMillion: 1, outputPerMillion: 1 } },
        spare: { provider: 'backup', model: 'b', pricing: { inputPerMillion: 10, cachedInputPerMillion: 1, outputPerMillion: 20, cacheWritePerMillion: 40 } },
      },
      agents: [{ key: 'a', version: 1, tools: [look] }],
    })
    const done = await (await runtime.createRun({ input: 'look around', personaId: 'a' })).result()
    // (3000 - 500 cached - 1000 written) x 10 + 500 cached x 1 + 1000 written x 40 + 300 out x 20, per million.
    expect(done).toMatchObject({ status: 'completed', content: 'done', totalCostUsd: 0.0615 })
    await runtime.close()
  })

  it('sends a turn’s reasoning blocks back with it, in the order streamed', async () => {
    const model = scriptedModel([
      [{ reasoning: 'I should look.', signature: 'sig-1' }, { redactedReasoning: 'opaque' }, ...callTools({ name: 'look', arguments: {}, id: 'l1' })],
      reply('A room.'),
    ])
    const runtime = await Runtime.open({ providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm' } }, agents: [{ key: 'a', version: 1, tools: [look] }] })
    const done = await (await runtime.createRun({ input: 'look', personaId: 'a' })).result()
    expect(done.status).toBe('completed')
    const sent = model.requests[1]?.messages.find((message) => message.role === 'assistant')
    expect(sent).toMatchObject({ reasoningBlocks: [{ type: 'thinking', thinking: 'I should look.', signature: 'sig-1' }, { type: 'redacted_thinking', data: 'opaque' }] })
    await runtime.close()
  })

  it('fails a run on an error the loop did not expect, and logs it with the run’s id', async () => {
    const errors: unknown[][] = []
    const touchy = tool({
      name: 'touchy',
      input: z.object({}),
      needsConfirmation: () => {
        throw new TypeError('a bug in the agent')
      },
      execute: () => 'never',
    })
    const runtime = await Runtime.open({
      logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) },
      providers: { scripted: scriptedModel([callTools({ name: 'touchy', arguments: {} }), reply('never')]) },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'a', version: 1, tools: [touchy] }],
    })
    const run = await runtime.createRun({ input: 'x', personaId: 'a' })
    expect(await run.result()).toMatchObject({ status: 'failed', error: { code: 'internal.error' } })
    expect(errors).toHaveLength(1)
    expect(errors[0]?.[0]).toBe(`hearth: run ${run.id} failed with an unexpected error`)
    expect(errors[0]?.[1]).toBeInstanceOf(TypeError)
    await runtime.close()
  })
  it('fails a run whose duration limit passes while a tool runs, once the tool phase gives up on the tool', async () => {
    const slow = tool({ name: 'slow', input: z.object({}), execute: () => new Promise((resolve) => setTimeout(() => resolve('late'), 300)) })
    const model = scriptedModel([callTools({ name: 'slow', arguments: {}, id: 's1' }), reply('never')])
    const runtime = await Runtime.open({ providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm' } }, agents: [{ key: 'a', version: 1, tools: [slow] }] })
    const run = await runtime.createRun({ input: 'x', personaId: 'a', limits: { maxDurationMs: 50 } })
    expect(await run.result()).toMatchObject({ status: 'failed', error: { code: 'run.limit_exceeded', details: { limit: 'maxDurationMs' } } })
    expect(model.requests).toHaveLength(1)
    await runtime.close()
  })
  it('fails a run at maxTurns with the limit in its message', async () => {
    const model = scriptedModel(() => callTools({ name: 'look', arguments: {} }))
    const runtime = await Runtime.open({ providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm' } }, agents: [{ key: 'a', version: 1, tools: [look], maxTurns: 2 }] })
    expect(await (await runtime.createRun({ input: 'x', personaId: 'a' })).result()).toMatchObject({
      status: 'failed',
      error: { code: 'run.max_turns', message: 'The run reached its limit of 2 model turns' },
    })
    expect(model.requests).toHaveLength(2)
    await runtime.close()
  })

  it('leaves a run that was streaming when the runtime closed running, not failed, and the next runtime finishes it', async () => {
    const store = memoryStore()
    const first = await Runtime.open({ store, providers: { scripted: scriptedModel([[{ text: 'part ' }, { delay: 600_000 }, { text: 'never' }]]) }, routes: { default: { provider: 'scripted', model: 'm' } } })
    const run = await first.createRun({ input: 'x' })
    for await (const event of run.events()) if (event.type === 'message.delta') break
    await first.close()
    await store.open()
    expect(await store.getRun(run.id)).toMatchObject({ status: 'running', error: null })
    const second = await Runtime.open({ store, providers: { scripted: scriptedModel([reply('whole answer')]) }, routes: { default: { provider: 'scripted', model: 'm' } } })
    expect(await second.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'whole answer' })
    await second.close()
  })
  it('leaves a run whose tool was running when the runtime closed running, and the next runtime finishes it', async () => {
    const store = memoryStore()
    let entered!: () => void
    const inTool = new Promise<void>((resolve) => (entered = resolve))
    // Idempotent, and deaf to the abort: it finishes its work after close began.
    const fetchPage = tool({ name: 'fetch_page', input: z.object({}), idempotent: true, execute: () => (entered(), new Promise((resolve) => setTimeout(() => resolve('page'), 30))) })
    const routes = { default: { provider: 'scripted', model: 'm' } }
    const agents = [{ key: 'a', version: 1, tools: [fetchPage] }]
    const script = () => scriptedModel([callTools({ name: 'fetch_page', arguments: {}, id: 'f1' }), reply('read it')])
    const first = await Runtime.open({ store, providers: { scripted: script() }, routes, agents })
    const run = await first.createRun({ input: 'x', personaId: 'a' })
    await inTool
    await first.close()
    await store.open()
    expect(await store.getRun(run.id)).toMatchObject({ status: 'running', error: null })
    const second = await Runtime.open({ store, providers: { scripted: script() }, routes, agents })
    expect(await second.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'read it' })
    await second.close()
  })
  it('waits for ever for a first chunk and between chunks when both timeouts are 0', async () => {
    const model = scriptedModel([[{ delay: 40 }, { text: 'slow ' }, { delay: 40 }, { text: 'answer' }]])
    const runtime = await Runtime.open({ providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm', firstChunkTimeoutMs: 0, idleTimeoutMs: 0, retry: { maxAttempts: 1 } } } })
    expect(await (await runtime.createRun({ input: 'x' })).result()).toMatchObject({ status: 'completed', content: 'slow answer' })
    await runtime.close()
  })
})
