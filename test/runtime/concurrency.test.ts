import { describe, expect, it } from 'vitest'
import { reply } from '../../src/testing/index.js'
import { collect, openRuntime } from '../helpers.js'

describe('one active run per session, and the global limit', () => {
  it('queues a second run behind the first and starts it when the first ends', async () => {
    const { runtime } = await openRuntime([reply('slow answer', { delayMs: 20 })])
    const session = await runtime.createSession()
    const first = await runtime.createRun(session.id, { input: 'one' })
    const second = await runtime.createRun(session.id, { input: 'two' })
    expect((await runtime.getRun(second.id)).status).toBe('queued')
    const secondEvents = await collect(second.events())
    expect(secondEvents[0]).toMatchObject({ seq: 1, type: 'run.queued', data: { position: 1 } })
    expect(secondEvents[1]?.type).toBe('run.started')
    const [a, b] = await Promise.all([first.result(), second.result()])
    expect(a.status).toBe('completed')
    expect(b.status).toBe('completed')
    expect(Date.parse(b.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(a.completedAt as string))
    await runtime.close()
  })

  it("fails fast with state.thread_busy under multitask: 'reject', writing nothing", async () => {
    const { runtime } = await openRuntime([reply('slow', { delayMs: 30 })])
    const session = await runtime.createSession()
    const first = await runtime.createRun(session.id, { input: 'one' })
    await expect(runtime.createRun(session.id, { input: 'two', multitask: 'reject' })).rejects.toMatchObject({ code: 'state.thread_busy' })
    expect(await runtime.listRuns({ sessionId: session.id })).toHaveLength(1)
    await first.result()
    await runtime.close()
  })

  it("cancels the active run under multitask: 'interrupt'", async () => {
    const { runtime } = await openRuntime([reply('a b c d e f', { delayMs: 50 })])
    const session = await runtime.createSession()
    const first = await runtime.createRun(session.id, { input: 'one' })
    const second = await runtime.createRun(session.id, { input: 'two', multitask: 'interrupt' })
    expect((await first.result()).status).toBe('cancelled')
    expect((await second.result()).status).toBe('completed')
    await runtime.close()
  })

  it('bounds runs executing at once by concurrency', async () => {
    let streaming = 0
    let peak = 0
    const { runtime } = await openRuntime(() => [{ text: 'x' }, { delay: 15 }, { text: 'y' }], { concurrency: 3 })
    const sessions = await Promise.all(Array.from({ length: 8 }, () => runtime.createSession()))
    const feed = runtime.events()
    let completed = 0
    const counting = (async () => {
      for await (const event of feed) {
        if (event.type === 'run.started') peak = Math.max(peak, ++streaming)
        if (event.type === 'run.completed') {
          streaming--
          if (++completed === sessions.length) break
        }
      }
    })()
    const runs = await Promise.all(sessions.map((session) => runtime.createRun(session.id, { input: 'go' })))
    await Promise.all(runs.map((run) => run.result()))
    await counting
    const queuedFirst = await Promise.all(runs.map(async (run) => (await runtime.readEvents(run.id, { limit: 1 }))[0]?.type))
    expect(queuedFirst.filter((type) => type === 'run.queued').length).toBeGreaterThanOrEqual(1)
    expect(peak).toBe(3)
    await runtime.close()
  })

  it('rejects bad run options without writing anything', async () => {
    const { runtime } = await openRuntime([reply('x')])
    const session = await runtime.createSession()
    await expect(runtime.createRun(session.id, { input: 42 as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun(session.id, { input: 'x', multitask: 'sometimes' as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun(session.id, { input: 'x', routeId: 'gpt-9' })).rejects.toMatchObject({ code: 'not_found.model_route' })
    await expect(runtime.createRun(session.id, { input: 'x', personaId: 'ghost' })).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(runtime.createRun(session.id, { input: 'x', personaId: 'assistant@7' })).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(runtime.createRun('thr_missing', { input: 'x' })).rejects.toMatchObject({ code: 'not_found.thread' })
    await expect(runtime.createRun(session.id, { input: 'x', orgId: 'other' })).rejects.toMatchObject({ code: 'not_found.thread' })
    await expect(runtime.createRun(session.id, null as never)).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.listRuns({ sessionId: session.id })).toEqual([])
    await runtime.close()
    await expect(runtime.createRun(session.id, { input: 'x' })).rejects.toMatchObject({ code: 'state.invalid' })
  })
})
