import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Runtime, tool } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { addTool, openRuntime } from '../helpers.js'

describe('agents', () => {
  it('resolves key to the latest version and key@version exactly', async () => {
    const { runtime, model } = await openRuntime([reply('x')])
    runtime.defineAgent({ key: 'assistant', version: 2, instructions: 'Version two.' })
    expect(runtime.getAgent('assistant').id).toBe('assistant@2')
    expect(runtime.getAgent('assistant@1').instructions).toBe('Be brief.')
    const session = await runtime.createSession({ agent: 'assistant' })
    const latest = await (await runtime.createRun(session.id, { input: 'x' })).result()
    expect(latest.personaId).toBe('assistant@2')
    expect(model.requests[0]?.messages[0]).toMatchObject({ role: 'system', content: 'Version two.' })
    const pinned = await (await runtime.createRun(session.id, { input: 'x', personaId: 'assistant@1' })).result()
    expect(pinned.personaId).toBe('assistant@1')
    await runtime.close()
  })

  it('refuses to redefine key@version with other content (state.invalid), accepts the same content', async () => {
    const { runtime } = await openRuntime([reply('x')])
    expect(() => runtime.defineAgent({ key: 'assistant', version: 1, instructions: 'Be brief.' })).not.toThrow()
    expect(() => runtime.defineAgent({ key: 'assistant', version: 1, instructions: 'Be verbose.' })).toThrow(expect.objectContaining({ code: 'state.invalid' }))
    expect(() => runtime.defineAgent({ key: 'assistant', version: 1, instructions: 'Be brief.', tools: [addTool] })).toThrow(
      expect.objectContaining({ code: 'state.invalid' }),
    )
    await runtime.close()
  })

  it('rejects malformed agents and tools with precise errors', async () => {
    const { runtime } = await openRuntime([reply('x')])
    expect(() => runtime.defineAgent({ key: 'bad key!', version: 1 })).toThrow(expect.objectContaining({ code: 'validation.invalid' }))
    expect(() => runtime.defineAgent({ key: 'ok', version: 0 })).toThrow(/positive integer/)
    expect(() => runtime.defineAgent({ key: 'ok', version: 1, maxTurns: -1 })).toThrow(/maxTurns/)
    expect(() => runtime.defineAgent({ key: 'ok', version: 1, tools: [addTool, addTool] })).toThrow(/two tools named `add`/)
    expect(() => runtime.getAgent('missing')).toThrow(expect.objectContaining({ code: 'not_found.agent' }))
    expect(() => tool({ name: 'has space', input: z.object({}), execute: () => 1 })).toThrow(TypeError)
    expect(() => tool({ name: 'x', input: {} as never, execute: () => 1 })).toThrow(/zod 4 schema/)
    expect(() => tool({ name: 'x', input: z.object({}), execute: 'no' as never })).toThrow(/execute/)
    await runtime.close()
  })

  it('validates runtime options at open', async () => {
    await expect(Runtime.open({ routes: { default: { provider: 'missing', model: 'm' } } })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(Runtime.open({ concurrency: 0 })).rejects.toThrow(/concurrency/)
    await expect(Runtime.open({ recovery: 'maybe' as never })).rejects.toThrow(/recovery/)
    await expect(
      Runtime.open({ providers: { p: scriptedModel([]) }, routes: { default: { provider: 'p', model: 'm', pricing: { inputPerMillion: -1, outputPerMillion: 1 } } } }),
    ).rejects.toMatchObject({ code: 'validation.invalid' })
  })
})

describe('metrics', () => {
  it('sums usage over turns and prices it with the route pricing', async () => {
    const { runtime } = await openRuntime(
      [
        [{ delay: 5 }, ...callTools({ name: 'add', arguments: { a: 1, b: 2 } }), { usage: { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 400 } }],
        [{ text: 'three' }, { usage: { inputTokens: 2000, outputTokens: 200, cachedInputTokens: 1600, reasoningTokens: 50 } }],
      ],
      {
        agent: { tools: [addTool] },
        routes: { default: { provider: 'scripted', model: 'm', pricing: { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 } } },
      },
    )
    const session = await runtime.createSession()
    const done = await (await runtime.createRun(session.id, { input: 'x' })).result()
    expect(done.metrics).toMatchObject({ inputTokens: 3000, outputTokens: 300, totalTokens: 3300, cachedInputTokens: 2000, reasoningTokens: 50 })
    // (1000 uncached * 2 + 2000 cached * 0.5 + 300 * 8) / 1e6
    expect(done.totalCostUsd).toBeCloseTo(0.0054, 10)
    expect(done.cacheHitRate).toBeCloseTo(2000 / 3000, 10)
    expect(done.creditsUsed).toBe(5)
    // The first turn's time to its first chunk (here a tool call, after the model's 5 ms).
    expect(done.metrics.timeToFirstTokenMs).toBeGreaterThanOrEqual(4)
    expect(done.metrics.durationMs).toBeGreaterThanOrEqual(done.metrics.timeToFirstTokenMs as number)
    await runtime.close()
  })

  it("uses the provider's own pricing when the route sets none, and creditsPerUsd", async () => {
    const { runtime } = await openRuntime([[{ text: 'x' }, { usage: { inputTokens: 1_000_000, outputTokens: 0 } }]], {
      scripted: { pricing: { inputPerMillion: 0.15, outputPerMillion: 0.6 } },
      creditsPerUsd: 100,
    })
    const session = await runtime.createSession()
    const done = await (await runtime.createRun(session.id, { input: 'x' })).result()
    expect(done).toMatchObject({ totalCostUsd: 0.15, creditsUsed: 15, cacheHitRate: 0 })
    await runtime.close()
  })

  it('reports zeros and a null time to first token when the model sent no usage and no text', async () => {
    const { runtime } = await openRuntime([[{ finish: 'stop' }]])
    const session = await runtime.createSession()
    const done = await (await runtime.createRun(session.id, { input: 'x' })).result()
    expect(done).toMatchObject({ status: 'completed', content: '', totalCostUsd: 0, cacheHitRate: 0, creditsUsed: 0 })
    expect(done.metrics.timeToFirstTokenMs).toBeNull()
    await runtime.close()
  })
})
