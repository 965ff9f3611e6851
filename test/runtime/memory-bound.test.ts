import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, tool } from 'hearth-runtime'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { reply, scriptedModel } from 'hearth-runtime/testing'
import { z } from 'zod'

/** Inserts a run of `session` and finishes it in one commit. */
async function finishedRun(store: ReturnType<typeof memoryStore>, session: ReturnType<typeof makeSession>, index: number): Promise<string> {
  const run = makeRun(session)
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString()
  await store.commit({
    insertRun: run,
    run: { id: run.id, patch: { status: 'completed', completedAt: at } },
    events: [makeDelta(run, 1)],
  })
  return run.id
}

describe('the memory store keeps a bounded number of finished runs', () => {
  it('keeps 1000 by default, dropping the run that finished longest ago with its events', async () => {
    const store = memoryStore()
    await store.open()
    const session = makeSession()
    await store.insertSession(session)
    const ids: string[] = []
    for (let index = 0; index < 1001; index++) ids.push(await finishedRun(store, session, index))
    expect(await store.getRun(ids[0] as string)).toBeUndefined()
    expect(await store.readEvents(ids[0] as string, 0, 10)).toEqual([])
    expect(await store.getRun(ids[1] as string)).toMatchObject({ status: 'completed' })
    expect(await store.readEvents(ids[1000] as string, 0, 10)).toHaveLength(1)
    const listed = await store.listRuns({ sessionId: session.id, limit: 100, order: 'asc' })
    expect(listed[0]?.id).toBe(ids[1])
  })

  it('never drops an unfinished run, and drops by finishing order, not creation order', async () => {
    const store = memoryStore({ maxFinishedRuns: 2 })
    const confirm = tool({ name: 'confirm', input: z.object({}), needsConfirmation: true, execute: () => 'confirmed' })
    const runtime = await Runtime.open({
      store,
      model: scriptedModel((request) => {
        const last = request.messages.at(-1)
        if (last?.role === 'tool') return [{ text: 'late' }]
        return last?.content === 'slow' ? [{ toolCall: { name: 'confirm', arguments: {} } }] : [{ text: 'quick' }]
      }),
      agents: [{ key: 'assistant', version: 1, tools: [confirm] }],
    })
    const slow = await runtime.createRun({ input: 'slow' })
    for await (const event of slow.events()) if (event.type === 'run.waiting_for_input') break
    const quick = []
    for (let index = 0; index < 3; index++) {
      const run = await runtime.createRun({ input: 'fast' })
      await run.result()
      quick.push(run.id)
    }
    // Three finished with a bound of two: the first to finish went; the unfinished one stays.
    expect(await store.getRun(quick[0] as string)).toBeUndefined()
    expect((await store.getRun(slow.id))?.status).toBe('waiting_for_input')
    await runtime.submitInput(slow.id, { approved: true })
    expect(await slow.result()).toMatchObject({ status: 'completed', content: 'late' })
    // The slow run was created first but finished last, so it stays and quick[1] goes.
    expect(await store.getRun(quick[1] as string)).toBeUndefined()
    expect((await runtime.listRuns()).map((run) => run.id).sort()).toEqual([slow.id, quick[2]].sort())
    await runtime.close()
  })

  it('refuses a bound that is not a positive integer or Infinity', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
      expect(() => memoryStore({ maxFinishedRuns: bad as never })).toThrow(TypeError)
    }
    expect(() => memoryStore({ maxFinishedRuns: Infinity })).not.toThrow()
  })
})

describe('the memory store keeps a bounded number of user memories', () => {
  it('drops the memory updated longest ago past maxMemories, and refuses a bad bound', async () => {
    const store = memoryStore({ maxMemories: 3 })
    await store.open()
    const owner = { orgId: 'default', userId: 'ann' }
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString()
    const memory = (id: string, second: number) => ({ id, ...owner, agentKey: null, memory: id, topics: [], createdAt: at(second), updatedAt: at(second) })
    for (const [index, id] of ['mem_a', 'mem_b', 'mem_c'].entries()) await store.insertMemory(memory(id, index))
    // Updating mem_a makes it the newest; mem_d then pushes out mem_b.
    await store.updateMemory(owner, 'mem_a', { memory: 'a again', updatedAt: at(5) })
    await store.insertMemory(memory('mem_d', 6))
    expect((await store.listMemories({ ...owner, limit: 10 })).memories.map((entry) => entry.id)).toEqual(['mem_d', 'mem_a', 'mem_c'])
    expect(() => memoryStore({ maxMemories: 0 })).toThrow(TypeError)
  })
})
