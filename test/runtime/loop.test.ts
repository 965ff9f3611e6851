import { describe, expect, it } from 'vitest'
import type { Commit } from '../../src/store.js'
import { z } from 'zod'
import { tool, type RunEvent } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { addTool, collect, deferred, openRuntime } from '../helpers.js'

const types = (events: RunEvent[]) => events.map((event) => event.type)

describe('the agent loop', () => {
  it('streams a chat turn as deltas, one message.completed and run.completed', async () => {
    const { runtime } = await openRuntime([reply('Hello there, friend', { usage: { inputTokens: 7, outputTokens: 3 } })])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'hi' })
    const events = await collect(run.events())
    expect(types(events)).toEqual(['run.started', 'message.delta', 'message.delta', 'message.delta', 'message.completed', 'run.completed'])
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(events.filter((event) => event.type === 'message.delta').map((event) => event.data)).toEqual([
      { content: 'Hello ', channel: 'text' },
      { content: 'there, ', channel: 'text' },
      { content: 'friend', channel: 'text' },
    ])
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Hello there, friend', input: 'hi', personaId: 'assistant@1', routeId: 'default' })
    expect(done.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant'])
    await runtime.close()
  })

  it('takes the caller’s trace id, and rejects a malformed one', async () => {
    const { runtime } = await openRuntime([reply('ok')])
    const session = await runtime.createSession()
    const traceId = '0af7651916cd43dd8448eb211c80319c'
    const run = await runtime.createRun(session.id, { input: 'x', traceId })
    expect(run.traceId).toBe(traceId)
    expect((await run.result()).traceId).toBe(traceId)
    await expect(runtime.createRun(session.id, { input: 'x', traceId: 'nope' })).rejects.toMatchObject({ code: 'validation.invalid' })
    const generated = await runtime.createRun(session.id, { input: 'x' })
    expect(generated.traceId).toMatch(/^[0-9a-f]{32}$/)
    await generated.result()
    await runtime.close()
  })

  it('streams reasoning on its own channel and keeps it on the run', async () => {
    const { runtime } = await openRuntime([[{ reasoning: 'think ' }, { reasoning: 'hard' }, { text: 'Answer' }]])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'q' })
    const events = await collect(run.events())
    expect(events.filter((event) => event.type === 'message.delta').map((event) => event.data)).toEqual([
      { content: 'think ', channel: 'reasoning' },
      { content: 'hard', channel: 'reasoning' },
      { content: 'Answer', channel: 'text' },
    ])
    expect(await run.result()).toMatchObject({ content: 'Answer', reasoningContent: 'think hard' })
    await runtime.close()
  })

  it('runs tools, feeds their results back, and sends the model the whole conversation', async () => {
    const { runtime, model } = await openRuntime(
      [callTools({ name: 'add', arguments: { a: 2, b: 3 }, id: 'c1' }, { name: 'add', arguments: { a: 10, b: 1 }, id: 'c2' }), reply('5 and 11')],
      { agent: { tools: [addTool] } },
    )
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'sums' })
    const events = await collect(run.events())
    const results = events.filter((event) => event.type === 'tool.result').map((event) => event.data)
    expect(results).toEqual(
      expect.arrayContaining([
        { tool_call_id: 'c1', name: 'add', output: 5, is_error: false },
        { tool_call_id: 'c2', name: 'add', output: 11, is_error: false },
      ]),
    )
    const second = model.requests[1]
    expect(second?.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool'])
    expect(second?.messages.slice(3)).toMatchObject([
      { role: 'tool', toolCallId: 'c1', content: '5' },
      { role: 'tool', toolCallId: 'c2', content: '11' },
    ])
    expect(model.requests[0]?.tools).toEqual([
      { name: 'add', description: 'Adds two numbers', parameters: expect.objectContaining({ type: 'object', required: ['a', 'b'] }) },
    ])
    expect((await run.result()).content).toBe('5 and 11')
    await runtime.close()
  })

  it('executes the calls of one turn in parallel, bounded by toolConcurrency', async () => {
    let running = 0
    let peak = 0
    const gate = deferred()
    const slow = tool({
      name: 'slow',
      input: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        running++
        peak = Math.max(peak, running)
        await gate.promise
        running--
        return n
      },
    })
    const calls = Array.from({ length: 5 }, (_, n) => ({ name: 'slow', arguments: { n } }))
    const { runtime } = await openRuntime([callTools(...calls), reply('done')], { agent: { tools: [slow] }, toolConcurrency: 3 })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'go' })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(peak).toBe(3)
    gate.resolve()
    expect((await run.result()).status).toBe('completed')
    expect(peak).toBe(3)
    await runtime.close()
  })

  it('turns invalid arguments into tool.invalid_arguments results the model sees', async () => {
    const { runtime, model } = await openRuntime(
      [
        callTools(
          { name: 'add', arguments: '{"a": 1,', id: 'bad-json' },
          { name: 'add', arguments: { a: 'one', b: 2 }, id: 'bad-schema' },
          { name: 'nope', arguments: {}, id: 'unknown' },
        ),
        reply('sorry'),
      ],
      { agent: { tools: [addTool] } },
    )
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const events = await collect(run.events())
    const results = events.filter((event) => event.type === 'tool.result').map((event) => event.data)
    expect(results).toHaveLength(3)
    for (const result of results) expect(result).toMatchObject({ is_error: true, error_code: 'tool.invalid_arguments' })
    expect(results.map((result) => result.tool_call_id)).toEqual(['bad-json', 'bad-schema', 'unknown'])
    expect(String(results[1]?.output)).toContain('a')
    const toolMessages = model.requests[1]?.messages.filter((message) => message.role === 'tool')
    expect(toolMessages).toHaveLength(3)
    expect((await run.result()).status).toBe('completed')
    await runtime.close()
  })

  it('reports a throwing tool as tool.failed and continues', async () => {
    const broken = tool({
      name: 'broken',
      input: z.object({}),
      execute: () => {
        throw new Error('disk on fire')
      },
    })
    const { runtime } = await openRuntime([callTools({ name: 'broken', arguments: {} }), reply('it failed')], { agent: { tools: [broken] } })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const events = await collect(run.events())
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true, error_code: 'tool.failed', output: 'disk on fire' })
    expect((await run.result()).status).toBe('completed')
    await runtime.close()
  })

  it('fails with run.max_turns when the model keeps calling tools', async () => {
    const { runtime, model } = await openRuntime(() => callTools({ name: 'add', arguments: { a: 1, b: 1 } }), {
      agent: { tools: [addTool], maxTurns: 3 },
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'loop' })
    const events = await collect(run.events())
    const last = events[events.length - 1]
    expect(last).toMatchObject({ type: 'run.failed', data: { error: { code: 'run.max_turns' } } })
    expect(model.requests).toHaveLength(3)
    expect(events.filter((event) => event.type === 'tool.call')).toHaveLength(3)
    expect(events.filter((event) => event.type === 'tool.result')).toHaveLength(3)
    expect(await run.result()).toMatchObject({ status: 'failed', error: { code: 'run.max_turns' } })
    await runtime.close()
  })

  it('ends the run after a stopAfterCall tool, with its output as content', async () => {
    const finish = tool({ name: 'finish', input: z.object({ answer: z.string() }), stopAfterCall: true, execute: ({ answer }) => answer })
    const { runtime, model } = await openRuntime([callTools({ name: 'finish', arguments: { answer: '42' } }), reply('never')], {
      agent: { tools: [finish] },
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: '42' })
    expect(model.requests).toHaveLength(1)
    expect(done.messages[done.messages.length - 1]).toMatchObject({ role: 'tool', stopAfterToolCall: true })
    await runtime.close()
  })

  it('validates the final answer against outputSchema', async () => {
    const outputSchema = z.object({ city: z.string(), population: z.number() })
    const good = await openRuntime([reply('{"city":"Oslo","population":700000}')], { agent: { outputSchema } })
    const session = await good.runtime.createSession()
    const run = await good.runtime.createRun(session.id, { input: 'x' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: '{"city":"Oslo","population":700000}' })
    expect(good.model.requests[0]?.responseFormat).toMatchObject({ name: 'output', schema: expect.objectContaining({ type: 'object' }) })
    await good.runtime.close()

    for (const answer of ['not json', '{"city":"Oslo"}']) {
      const bad = await openRuntime([reply(answer)], { agent: { outputSchema } })
      const badSession = await bad.runtime.createSession()
      const badRun = await bad.runtime.createRun(badSession.id, { input: 'x' })
      expect(await badRun.result()).toMatchObject({ status: 'failed', error: { code: 'run.output_invalid' } })
      await bad.runtime.close()
    }
  })

  it('fails the run with the provider error code, keeping partial content', async () => {
    const { runtime } = await openRuntime([[{ text: 'Half an ' }, { error: { code: 'provider.unavailable', message: 'upstream 503' } }]])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const events = await collect(run.events())
    expect(events[events.length - 1]).toMatchObject({ type: 'run.failed', data: { error: { code: 'provider.unavailable', message: 'upstream 503' } } })
    expect(await run.result()).toMatchObject({ status: 'failed', content: 'Half an ', error: { code: 'provider.unavailable' } })
    await runtime.close()
  })

  it('shows a new run the messages of earlier runs, marked fromHistory', async () => {
    const { runtime, model } = await openRuntime([reply('first answer')])
    const session = await runtime.createSession()
    await (await runtime.createRun(session.id, { input: 'one' })).result()
    await (await runtime.createRun(session.id, { input: 'two' })).result()
    const second = model.requests[1]
    expect(second?.messages.map((message) => [message.role, message.content, message.fromHistory ?? false])).toEqual([
      ['system', 'Be brief.', false],
      ['user', 'one', true],
      ['assistant', 'first answer', true],
      ['user', 'two', false],
    ])
    await runtime.close()
  })

  it('lets tools read and write the session state, stored with the step', async () => {
    const remember = tool({
      name: 'remember',
      input: z.object({ item: z.string() }),
      execute: ({ item }, context) => {
        const items = (context.state.items as string[] | undefined) ?? []
        context.state.items = [...items, item]
        return context.state.items.length
      },
    })
    const { runtime } = await openRuntime([callTools({ name: 'remember', arguments: { item: 'milk' } }), reply('ok')], { agent: { tools: [remember] } })
    const session = await runtime.createSession({ state: { items: ['eggs'] } })
    await (await runtime.createRun(session.id, { input: 'x' })).result()
    expect((await runtime.getSession(session.id)).state).toEqual({ items: ['eggs', 'milk'] })
    await runtime.close()
  })

  it('gives a run queued behind another the session state that run left', async () => {
    const seen: string[][] = []
    const remember = tool({
      name: 'remember',
      input: z.object({}),
      execute: async (_, context) => {
        const items = (context.state.items as string[] | undefined) ?? []
        seen.push(items)
        await new Promise((resolve) => setTimeout(resolve, 10))
        context.state.items = [...items, context.runId]
        return items.length
      },
    })
    const { runtime } = await openRuntime([callTools({ name: 'remember', arguments: {} }), reply('ok')], { agent: { tools: [remember] } })
    const session = await runtime.createSession({ state: { items: [] } })
    // Created together: the second waits, and must not start from the state the first was created with.
    const runs = await Promise.all([runtime.createRun(session.id, { input: 'a' }), runtime.createRun(session.id, { input: 'b' })])
    for (const run of runs) await run.result()
    expect(seen).toEqual([[], [runs[0].id]])
    expect((await runtime.getSession(session.id)).state).toEqual({ items: [runs[0].id, runs[1].id] })
    await runtime.close()
  })
})

describe('bad tool output and a failing store', () => {
  it('reports an output that is not JSON as tool.failed, and undefined as null', async () => {
    const circular = tool({
      name: 'circular',
      input: z.object({}),
      execute: () => {
        const value: Record<string, unknown> = {}
        value.self = value
        return value
      },
    })
    const nothing = tool({ name: 'nothing', input: z.object({}), execute: () => undefined })
    const { runtime } = await openRuntime([callTools({ name: 'circular', arguments: {}, id: 'c' }, { name: 'nothing', arguments: {}, id: 'n' }), reply('ok')], {
      agent: { tools: [circular, nothing] },
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const events = await collect(run.events())
    const results = Object.fromEntries(events.filter((event) => event.type === 'tool.result').map((event) => [event.data.tool_call_id, event.data]))
    expect(results.c).toMatchObject({ is_error: true, error_code: 'tool.failed' })
    expect(results.n).toMatchObject({ is_error: false, output: null })
    expect((await run.result()).status).toBe('completed')
    await runtime.close()
  })

  it('rejects createRun when the store cannot insert it, leaving no run and a free session', async () => {
    const { MemoryStore, StorageError } = await import('../../src/index.js')
    let failInserts = true
    class FullDisk extends MemoryStore {
      override async commit(commit: Commit): Promise<void> {
        if (failInserts && commit.insertRun !== undefined) throw new StorageError('storage.failed', 'disk full')
        return super.commit(commit)
      }
    }
    const { runtime } = await openRuntime([reply('fine')], { store: new FullDisk() })
    const session = await runtime.createSession()
    await expect(runtime.createRun(session.id, { input: 'x', multitask: 'reject' })).rejects.toMatchObject({ code: 'storage.failed' })
    expect(await runtime.listRuns({ sessionId: session.id })).toEqual([])
    failInserts = false
    const run = await runtime.createRun(session.id, { input: 'x', multitask: 'reject' })
    expect((await run.result()).status).toBe('completed')
    await runtime.close()
  })

  it('runs no tool of a run whose insert failed, though the run started before the insert was committed', async () => {
    const { MemoryStore, StorageError } = await import('../../src/index.js')
    const committed: Commit[] = []
    class FullDisk extends MemoryStore {
      override async commit(commit: Commit): Promise<void> {
        if (commit.insertRun !== undefined) throw new StorageError('storage.failed', 'disk full')
        committed.push(commit)
        return super.commit(commit)
      }
    }
    let charges = 0
    const charge = tool({ name: 'charge', input: z.object({}), execute: () => ++charges })
    const { runtime, model } = await openRuntime([callTools({ name: 'charge', arguments: {} }), reply('charged')], { store: new FullDisk(), agent: { tools: [charge] } })
    const session = await runtime.createSession()
    await expect(runtime.createRun(session.id, { input: 'x' })).rejects.toMatchObject({ code: 'storage.failed' })
    // The first model turn streamed in the same tick as the insert; the commit before the tool failed with it.
    expect(model.requests).toHaveLength(1)
    expect(charges).toBe(0)
    expect(committed).toEqual([])
    expect(await runtime.listRuns({ sessionId: session.id })).toEqual([])
    await runtime.close()
  })
})
