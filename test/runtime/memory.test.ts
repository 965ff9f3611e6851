/**
 * User memories in the loop, with the scripted model: extraction alongside a
 * run (`memory: 'auto'`), memories in the instructions of the same user's
 * later runs and never another user's, the timeout and failure paths, and
 * the agentic tool.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, type AgentDefinition, type ModelRequest, type RunEvent, type Store } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

const systemOf = (request: ModelRequest): string => request.messages.find((message) => message.role === 'system')?.content ?? ''
const lastUser = (request: ModelRequest): string => [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
const isExtraction = (request: ModelRequest): boolean => request.responseFormat?.name === 'memory_updates'
const types = (events: readonly RunEvent[]): string[] => events.map((event) => event.type)

/** The extraction remembers "I live in X" as "Lives in X"; the agent answers with what its instructions say about the user. */
function extractor(request: ModelRequest): ScriptedTurn {
  const message = lastUser(request).split("The user's message:\n")[1] ?? ''
  const place = /I live in (\w+)/.exec(message)?.[1]
  const known = /- \[(mem_\w+)\] Lives in (\w+)/.exec(lastUser(request))
  if (place === undefined) return reply(JSON.stringify({ add: [], update: [], delete: [] }), { usage: { inputTokens: 7, outputTokens: 3 } })
  const answer = known === null ? { add: [{ memory: `Lives in ${place}`, topics: ['location'] }], update: [], delete: [] } : { add: [], update: [{ memory_id: known[1], memory: `Lives in ${place}`, topics: ['location'] }], delete: [] }
  return reply(JSON.stringify(answer), { usage: { inputTokens: 7, outputTokens: 3 } })
}

function answerer(request: ModelRequest): ScriptedTurn {
  const place = /Lives in (\w+)/.exec(systemOf(request))?.[1]
  return reply(place === undefined ? 'Where do you live?' : `You live in ${place}.`)
}

async function open(options: { agent?: Partial<AgentDefinition>; store?: Store; extraction?: (request: ModelRequest) => ScriptedTurn } = {}) {
  const model = scriptedModel((request) => (isExtraction(request) ? (options.extraction ?? extractor)(request) : answerer(request)), { mode: 'sequential' })
  const runtime = await Runtime.open({
    store: options.store ?? memoryStore(),
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm', retry: { maxAttempts: 1 } } },
    agents: [{ key: 'assistant', version: 1, instructions: 'Be brief.', memory: 'auto', ...options.agent }],
  })
  return { runtime, model }
}

async function runFor(runtime: Runtime, userId: string | null, input: string, orgId = 'default') {
  const session = await runtime.createSession({ agent: 'assistant', userId, orgId })
  const handle = await runtime.createRun(session.id, { input, orgId })
  const events = await collect(handle.events())
  return { run: await handle.result(), events }
}

describe('user memory, auto', () => {
  it('extracts alongside the run, commits before run.completed, and carries the memories into the same user’s later sessions only', async () => {
    const { runtime, model } = await open()
    const first = await runFor(runtime, 'ann', 'Hi, I live in Lisbon')
    expect(first.run.status).toBe('completed')
    expect(first.run.content).toBe('Where do you live?')
    const kinds = types(first.events)
    expect(kinds.indexOf('memory.update_started')).toBe(kinds.indexOf('run.started') + 1)
    expect(kinds.indexOf('memory.update_completed')).toBeGreaterThan(kinds.indexOf('memory.update_started'))
    expect(kinds.indexOf('memory.update_completed')).toBeLessThan(kinds.indexOf('run.completed'))
    const completed = first.events.find((event) => event.type === 'memory.update_completed')
    expect(completed?.data).toMatchObject({ added: 1, updated: 0, deleted: 0, changes: [{ action: 'add', memory: 'Lives in Lisbon', topics: ['location'] }] })
    // The extraction's text never reaches the run's messages or its content; its tokens count in its usage.
    expect(JSON.stringify(first.run.messages)).not.toContain('"add"')
    expect(first.run.metrics.inputTokens).toBeGreaterThanOrEqual(7)

    const listed = await runtime.memories.list({ userId: 'ann' })
    expect(listed.total).toBe(1)
    expect(listed.memories[0]).toMatchObject({ userId: 'ann', orgId: 'default', agentKey: 'assistant', memory: 'Lives in Lisbon', topics: ['location'] })

    // Another session of Ann: her memory is in the instructions, and recorded in run.started.
    const second = await runFor(runtime, 'ann', 'Where do I live?')
    expect(second.run.content).toBe('You live in Lisbon.')
    const started = second.events.find((event) => event.type === 'run.started')
    expect(started?.data).toMatchObject({ memories: [{ memory_id: listed.memories[0]?.id, memory: 'Lives in Lisbon' }] })
    expect(second.run.messages[0]?.content).toContain('Be brief.')
    expect(second.run.messages[0]?.content).toContain('- Lives in Lisbon')

    // Bob has none: nothing of Ann's reaches his instructions or his extraction.
    const bob = await runFor(runtime, 'bob', 'Where do I live?')
    expect(bob.run.content).toBe('Where do you live?')
    const bobRequests = model.requests.filter((request) => JSON.stringify(request).includes('Where do I live?') && !isExtraction(request))
    expect(JSON.stringify(bobRequests.at(-1))).not.toContain('Lisbon')
    const bobExtraction = model.requests.filter(isExtraction).at(-1)
    expect(lastUser(bobExtraction as ModelRequest)).toContain('Known facts about the user:\n(none)')
    // Nor another org's user of the same id.
    const elsewhere = await runFor(runtime, 'ann', 'Where do I live?', 'acme')
    expect(elsewhere.run.content).toBe('Where do you live?')
    await runtime.close()
  })

  it('updates a known memory in place when the user corrects it', async () => {
    const { runtime } = await open()
    await runFor(runtime, 'ann', 'I live in Lisbon')
    const [before] = (await runtime.memories.list({ userId: 'ann' })).memories
    const moved = await runFor(runtime, 'ann', 'Actually I live in Porto now')
    expect(moved.events.find((event) => event.type === 'memory.update_completed')?.data).toMatchObject({ added: 0, updated: 1, deleted: 0 })
    const after = await runtime.memories.list({ userId: 'ann' })
    expect(after.total).toBe(1)
    expect(after.memories[0]).toMatchObject({ id: before?.id, memory: 'Lives in Porto', createdAt: before?.createdAt })
    await runtime.close()
  })

  it('skips memory for a run whose session has no user', async () => {
    const { runtime, model } = await open()
    const { run, events } = await runFor(runtime, null, 'I live in Lisbon')
    expect(run.status).toBe('completed')
    expect(types(events).filter((type) => type.startsWith('memory.'))).toEqual([])
    expect(model.requests.filter(isExtraction)).toEqual([])
    await runtime.close()
  })

  it('keeps no memory and carries none for a run another user started on the session', async () => {
    const { runtime, model } = await open()
    await runtime.memories.create({ userId: 'ann', memory: 'Lives in Lisbon' })
    const session = await runtime.createSession({ agent: 'assistant', userId: 'ann' })
    const handle = await runtime.createRun(session.id, { input: 'I live in Porto', createdBy: { userId: 'bob' } })
    const events = await collect(handle.events())
    expect((await handle.result()).content).toBe('Where do you live?')
    expect(types(events).filter((type) => type.startsWith('memory.'))).toEqual([])
    expect(events.find((event) => event.type === 'run.started')?.data).not.toHaveProperty('memories')
    expect(model.requests.filter(isExtraction)).toEqual([])
    // Ann's own run on it does.
    const own = await runtime.createRun(session.id, { input: 'Where do I live?', createdBy: { userId: 'ann' } })
    expect((await own.result()).content).toBe('You live in Lisbon.')
    await runtime.close()
  })

  it('fails the extraction, never the run, on a timeout, a provider error or an answer that is not the JSON asked for', async () => {
    const cases: [(request: ModelRequest) => ScriptedTurn, string][] = [
      [() => [{ delay: 60_000 }, { text: '{}' }], 'memory.timeout'],
      [() => [{ error: { code: 'provider.unavailable', message: 'down' } }], 'provider.unavailable'],
      [() => reply('I think they live in Lisbon.'), 'memory.invalid'],
      [() => reply(JSON.stringify({ add: [{ memory: '', topics: [] }], update: [], delete: [] })), 'memory.invalid'],
    ]
    for (const [extraction, code] of cases) {
      const { runtime } = await open({ extraction, agent: { memory: { mode: 'auto', timeoutMs: 50 } } })
      const { run, events } = await runFor(runtime, 'ann', 'I live in Lisbon')
      expect(run.status).toBe('completed')
      expect(run.content).toBe('Where do you live?')
      const failed = events.find((event) => event.type === 'memory.update_failed')
      expect(failed?.data).toMatchObject({ error: { code } })
      expect(types(events).indexOf('memory.update_failed')).toBeLessThan(types(events).indexOf('run.completed'))
      expect((await runtime.memories.list({ userId: 'ann' })).total).toBe(0)
      await runtime.close()
    }
  })

  it('changes only memories it was shown: an id it makes up (another user’s) is left alone', async () => {
    const store = memoryStore()
    const { runtime } = await open({ store, extraction: () => reply('{}') })
    const bobs = await runtime.memories.create({ userId: 'bob', memory: 'Likes jazz' })
    await runtime.close()
    const extraction = (): ScriptedTurn => reply(JSON.stringify({ add: [], update: [{ memory_id: bobs.id, memory: 'Hates jazz', topics: [] }], delete: [bobs.id] }))
    const again = await open({ store, extraction })
    const { run, events } = await runFor(again.runtime, 'ann', 'I live in Lisbon')
    expect(run.status).toBe('completed')
    expect(events.find((event) => event.type === 'memory.update_completed')?.data).toMatchObject({ added: 0, updated: 0, deleted: 0, changes: [] })
    expect(await again.runtime.memories.get({ userId: 'bob', memoryId: bobs.id })).toEqual(bobs)
    await again.runtime.close()
  })

  it('records the extraction as abandoned when the run is cancelled first', async () => {
    const { runtime } = await open({ extraction: () => [{ delay: 60_000 }, { text: '{}' }] })
    const session = await runtime.createSession({ agent: 'assistant', userId: 'ann' })
    const handle = await runtime.createRun(session.id, { input: 'I live in Lisbon' })
    // The answer waits for the extraction (a minute): cancel it once the answer is in.
    for await (const event of handle.events()) if (event.type === 'message.completed') break
    await runtime.cancelRun(handle.id)
    const events = await collect(runtime.runEvents(handle.id))
    const kinds = types(events)
    expect(kinds.at(-1)).toBe('run.cancelled')
    expect(events.find((event) => event.type === 'memory.update_failed')?.data).toMatchObject({ error: { code: 'memory.abandoned' } })
    expect(kinds.indexOf('memory.update_failed')).toBe(kinds.length - 2)
    await runtime.close()
  })
})

describe('user memory, agentic', () => {
  it('gives the model update_user_memory to add, update and delete the run user’s memories', async () => {
    let memoryId = ''
    const script = (request: ModelRequest): ScriptedTurn => {
      const last = request.messages.at(-1)
      const text = lastUser(request)
      if (last?.role === 'tool') {
        if (last.isError !== true) memoryId = (JSON.parse(last.content) as { memory_id: string }).memory_id
        return reply(`done: ${last.content}`)
      }
      if (text === 'remember') return callTools({ name: 'update_user_memory', arguments: { action: 'add', memory: 'Has a cat', topics: ['pets'] } })
      if (text === 'correct') return callTools({ name: 'update_user_memory', arguments: { action: 'update', memory_id: memoryId, memory: 'Has two cats' } })
      if (text === 'forget') return callTools({ name: 'update_user_memory', arguments: { action: 'delete', memory_id: memoryId } })
      return reply(systemOf(request))
    }
    const model = scriptedModel(script, { mode: 'sequential' })
    const runtime = await Runtime.open({
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'assistant', version: 1, instructions: 'Be brief.', memory: 'agentic' }],
    })
    expect(runtime.getAgent('assistant').toolSpecs.map((spec) => spec.name)).toEqual(['update_user_memory'])
    const remembered = await runFor(runtime, 'ann', 'remember')
    expect(types(remembered.events).filter((type) => type.startsWith('memory.'))).toEqual([])
    expect((await runtime.memories.list({ userId: 'ann' })).memories.map((memory) => [memory.memory, memory.topics, memory.agentKey])).toEqual([['Has a cat', ['pets'], 'assistant']])
    const shown = await runFor(runtime, 'ann', 'what do you know?')
    expect(shown.run.content).toContain(`- Has a cat`)
    await runFor(runtime, 'ann', 'correct')
    expect((await runtime.memories.get({ userId: 'ann', memoryId })).memory).toBe('Has two cats')
    // Bob's run cannot reach Ann's memory by its id.
    const bobs = await runFor(runtime, 'bob', 'forget')
    const result = bobs.events.find((event) => event.type === 'tool.result')
    expect(result?.data).toMatchObject({ is_error: true })
    expect((await runtime.memories.list({ userId: 'ann' })).total).toBe(1)
    await runFor(runtime, 'ann', 'forget')
    expect((await runtime.memories.list({ userId: 'ann' })).total).toBe(0)
    // A run without a user gets an error result, and the run goes on.
    const anonymous = await runFor(runtime, null, 'remember')
    expect(anonymous.run.status).toBe('completed')
    expect(anonymous.events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true })
    await runtime.close()
  })
})

describe('runtime.memories', () => {
  it('checks its input and names the user on every call', async () => {
    const { runtime } = await open()
    await expect(runtime.memories.list({ userId: '' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.memories.create({ userId: 'ann', memory: '' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.memories.create({ userId: 'ann', memory: 'x'.repeat(5001) })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.memories.create({ userId: 'ann', memory: 'a\u0000b' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.memories.create({ userId: 'ann', memory: 'ok', topics: ['x'.repeat(65)] })).rejects.toMatchObject({ code: 'validation.invalid' })
    const memory = await runtime.memories.create({ userId: 'ann', memory: 'Likes tea', topics: ['drinks', 'drinks'] })
    expect(memory.topics).toEqual(['drinks'])
    await expect(runtime.memories.get({ userId: 'bob', memoryId: memory.id })).rejects.toMatchObject({ code: 'not_found.memory' })
    await expect(runtime.memories.get({ userId: 'ann', orgId: 'acme', memoryId: memory.id })).rejects.toMatchObject({ code: 'not_found.memory' })
    await expect(runtime.memories.update({ userId: 'bob', memoryId: memory.id, memory: 'x' })).rejects.toMatchObject({ code: 'not_found.memory' })
    await expect(runtime.memories.update({ userId: 'ann', memoryId: memory.id })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.memories.delete({ userId: 'ann', memoryIds: [] })).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.memories.delete({ userId: 'bob', memoryIds: [memory.id] })).toBe(0)
    await expect(runtime.memories.list({ userId: 'ann', limit: 0 })).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.memories.topics({ userId: 'ann' })).toEqual(['drinks'])
    expect(await runtime.memories.delete({ userId: 'ann', memoryIds: [memory.id] })).toBe(1)
    await runtime.close()
  })

  it('refuses an agent with memory on a store that keeps none, and a memory route that is not defined', async () => {
    const bare = memoryStore()
    Object.defineProperty(bare, 'insertMemory', { value: undefined })
    await expect(Runtime.open({ store: bare, agents: [{ key: 'a', version: 1, memory: 'auto' }] })).rejects.toMatchObject({ code: 'state.invalid' })
    await expect(Runtime.open({ agents: [{ key: 'a', version: 1, memory: { mode: 'auto', route: 'nope' } }] })).rejects.toMatchObject({ code: 'not_found.model_route' })
    await expect(Runtime.open({ agents: [{ key: 'a', version: 1, memory: 'sometimes' as 'auto' }] })).rejects.toMatchObject({ code: 'validation.invalid' })
  })
})
