import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, type Store } from '../../src/index.js'
import { reply, scriptedModel } from '../../src/testing/index.js'

/** A memory store that counts event reads. */
function countingStore(): { store: Store; reads: () => number } {
  const store = memoryStore()
  let reads = 0
  const readEvents = store.readEvents.bind(store)
  store.readEvents = (runId, afterSeq, limit) => {
    reads++
    return readEvents(runId, afterSeq, limit)
  }
  return { store, reads: () => reads }
}

describe('the events of runs that just ended', () => {
  it('serves a reader who comes after the end from memory, the same events the store holds', async () => {
    const { store, reads } = countingStore()
    const runtime = await Runtime.open({ store, providers: { model: scriptedModel([reply('hello', { deltas: 3 })]) }, routes: { default: { provider: 'model', model: 'm' } }, agents: [{ key: 'a', version: 1, instructions: 'A.' }] })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'hi' })
    expect((await run.result()).status).toBe('completed')
    const before = reads()
    const events = []
    for await (const event of run.events()) events.push(event)
    expect(reads()).toBe(before)
    expect(events.map((event) => event.seq)).toEqual((await store.readEvents(run.id, 0, 100)).map((event) => event.seq))
    expect(events.at(-1)?.type).toBe('run.completed')
    await runtime.close()
  })

  it('forgets the runs of a deleted session: their events are then not found', async () => {
    const runtime = await Runtime.open({ store: memoryStore(), providers: { model: scriptedModel([reply('hello')]) }, routes: { default: { provider: 'model', model: 'm' } }, agents: [{ key: 'a', version: 1, instructions: 'A.' }] })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'hi' })
    await run.result()
    await runtime.deleteSession(run.sessionId)
    await expect(async () => {
      for await (const _event of runtime.runEvents(run.id)) void _event
    }).rejects.toMatchObject({ code: 'not_found.run' })
    await runtime.close()
  })
})
