import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { MemoryStore, memoryStore, Runtime, StorageError, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { collect, openRuntime, sleep } from '../helpers.js'

/** A memory store that counts the reads of a run's log. */
class CountingStore extends MemoryStore {
  logReads = 0
  override async readEvents(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    this.logReads++
    return super.readEvents(runId, afterSeq, limit)
  }
}

describe('the event log and its streams', () => {
  it('commits every event to the store before any subscriber sees it', async () => {
    const store = memoryStore()
    const runtime = await Runtime.open({
      store,
      providers: { scripted: scriptedModel([reply('one two three four five', { delayMs: 2 })]) },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'a', version: 1 }],
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    let checked = 0
    for await (const event of run.events()) {
      const stored = await store.readEvents(run.id, event.seq - 1, 1)
      expect(stored[0]).toEqual(event)
      checked++
    }
    expect(checked).toBeGreaterThan(5)
    await runtime.close()
  })

  it('gives every concurrent reader the same dense sequence, from any afterSeq', async () => {
    const { runtime } = await openRuntime([reply('a b c d e f g h i j', { delayMs: 3 })])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const readers = [0, 0, 0, 2, 5].map((afterSeq) => collect(runtime.runEvents(run.id, { afterSeq })))
    await sleep(12)
    readers.push(collect(runtime.runEvents(run.id, { afterSeq: 3 })))
    const results = await Promise.all(readers)
    const full = results[0] as RunEvent[]
    expect(full.map((event) => event.seq)).toEqual(full.map((_, index) => index + 1))
    expect(full[full.length - 1]?.type).toBe('run.completed')
    expect(results[1]).toEqual(full)
    expect(results[3]).toEqual(full.slice(2))
    expect(results[4]).toEqual(full.slice(5))
    expect(results[5]).toEqual(full.slice(3))
    await runtime.close()
  })

  it('replays a run it executes from the events it holds, not the store, up to 256 events and until the run waits', async () => {
    const words = (count: number) => Array.from({ length: count }, (_, index) => `w${index} `).join('')
    const store = new CountingStore()
    const { runtime } = await openRuntime((request) => (request.messages.at(-1)?.content === 'long' ? reply(words(300), { delayMs: 1 }) : reply(words(40), { delayMs: 1 })), { store })
    const session = await runtime.createSession()

    const short = await runtime.createRun(session.id, { input: 'short' })
    await sleep(15)
    const joined = await collect(short.events({ afterSeq: 0 }))
    expect(joined.map((event) => event.seq)).toEqual(joined.map((_, index) => index + 1))
    expect(joined.length).toBe(43)
    expect(store.logReads).toBe(0)

    // Past 256 events the run holds none: a reader joining then reads the store, and misses nothing.
    const long = await runtime.createRun(session.id, { input: 'long' })
    while ((await runtime.getRun(long.id)).lastSeq <= 256) await sleep(5)
    const late = await collect(long.events({ afterSeq: 0 }))
    expect(late.map((event) => event.seq)).toEqual(late.map((_, index) => index + 1))
    expect(late.length).toBe(303)
    expect(store.logReads).toBeGreaterThan(0)
    await runtime.close()
  })

  it('holds no events for a run waiting for input: its readers read the store', async () => {
    const approve = tool({ name: 'pay', needsConfirmation: true, input: z.object({}), execute: () => 'paid' })
    const store = new CountingStore()
    const { runtime } = await openRuntime([callTools({ name: 'pay', arguments: {} }), reply('done')], { store, agent: { tools: [approve] } })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    while ((await runtime.getRun(run.id)).status !== 'waiting_for_input') await sleep(2)
    // The loop lets go of the events just after the waiting status is committed.
    await sleep(5)
    const reader = collect(run.events())
    await sleep(5)
    expect(store.logReads).toBe(1)
    await runtime.submitInput(run.id, { content: 'yes' })
    expect((await reader).at(-1)?.type).toBe('run.completed')
    await runtime.close()
  })

  it('replays a finished run and ends; past its end, yields nothing', async () => {
    const { runtime } = await openRuntime([reply('done')])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    await run.result()
    const all = await collect(runtime.runEvents(run.id))
    expect(all.map((event) => event.type)).toEqual(['run.started', 'message.delta', 'message.completed', 'run.completed'])
    expect(await collect(runtime.runEvents(run.id, { afterSeq: all.length }))).toEqual([])
    expect(await collect(runtime.runEvents(run.id, { afterSeq: 2 }))).toEqual(all.slice(2))
    await runtime.close()
  })

  it('lets a slow reader fall back to the log instead of buffering without bound', async () => {
    const words = Array.from({ length: 400 }, (_, index) => `w${index} `).join('')
    const { runtime } = await openRuntime([reply(words, { delayMs: 0 })])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const seen: number[] = []
    for await (const event of runtime.runEvents(run.id, { bufferLimit: 8 })) {
      seen.push(event.seq)
      if (seen.length % 50 === 0) await sleep(5)
    }
    expect(seen).toEqual(seen.map((_, index) => index + 1))
    expect(seen.length).toBe(403)
    await runtime.close()
  })

  it('leaves no abort listeners behind on a long stream read with a signal', async () => {
    const { getEventListeners } = await import('node:events')
    const words = Array.from({ length: 200 }, (_, index) => `w${index} `).join('')
    const { runtime } = await openRuntime([reply(words, { delayMs: 1 })])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const controller = new AbortController()
    let count = 0
    for await (const event of runtime.runEvents(run.id, { signal: controller.signal })) {
      count++
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1)
      void event
    }
    expect(count).toBe(203)
    await runtime.close()
  })

  it('feeds every new event of every run through runtime.events()', async () => {
    const { runtime } = await openRuntime([reply('hi there')])
    const feed = runtime.events()[Symbol.asyncIterator]()
    const sessions = await Promise.all([runtime.createSession(), runtime.createSession()])
    const runs = await Promise.all(sessions.map((session) => runtime.createRun(session.id, { input: 'x' })))
    await Promise.all(runs.map((run) => run.result()))
    const got: RunEvent[] = []
    while (got.filter((event) => event.type === 'run.completed').length < 2) got.push((await feed.next()).value as RunEvent)
    for (const run of runs) {
      const mine = got.filter((event) => event.runId === run.id)
      expect(mine.map((event) => event.seq)).toEqual(mine.map((_, index) => index + 1))
    }
    await feed.return?.()
    await runtime.close()
  })

  it('throws not_found.run for an unknown run, and for another org', async () => {
    const { runtime } = await openRuntime([reply('x')])
    await expect(collect(runtime.runEvents('run_nope'))).rejects.toMatchObject({ code: 'not_found.run' })
    const session = await runtime.createSession({ orgId: 'acme' })
    const run = await runtime.createRun(session.id, { input: 'x' })
    await run.result()
    await expect(collect(runtime.runEvents(run.id, { orgId: 'other' }))).rejects.toMatchObject({ code: 'not_found.run' })
    expect((await collect(runtime.runEvents(run.id, { orgId: 'acme' }))).length).toBeGreaterThan(0)
    expect(() => runtime.runEvents(run.id, { afterSeq: -1 })).toThrow(expect.objectContaining({ code: 'validation.invalid' }))
    await runtime.close()
  })

  it('fails the runtime loudly, not halfway, when the store fails at open', async () => {
    class BrokenStore extends MemoryStore {
      override async open(): Promise<void> {
        throw new StorageError('storage.corrupt', 'file is not a database')
      }
    }
    const broken = new BrokenStore()
    await expect(Runtime.open({ store: broken })).rejects.toMatchObject({ code: 'storage.corrupt' })
  })
})
