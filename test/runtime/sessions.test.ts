import { describe, expect, it } from 'vitest'
import { reply } from '../../src/testing/index.js'
import { collect, openRuntime } from '../helpers.js'

describe('sessions', () => {
  it('creates, gets, updates and deletes a session', async () => {
    const { runtime } = await openRuntime([reply('x')])
    const session = await runtime.createSession({
      agent: 'assistant',
      orgId: 'acme',
      title: 'Support',
      metadata: { channel: 'web' },
      createdBy: { userId: 'u1', name: 'Ann', email: 'ann@acme.io' },
    })
    expect(session).toMatchObject({ orgId: 'acme', userId: 'u1', type: 'agent', agent: 'assistant', title: 'Support', state: {} })
    expect(session.id).toMatch(/^thr_[0-9A-Z]{26}$/)
    expect(await runtime.getSession(session.id, { orgId: 'acme' })).toEqual(session)
    await expect(runtime.getSession(session.id, { orgId: 'other' })).rejects.toMatchObject({ code: 'not_found.thread' })
    const updated = await runtime.updateSession(session.id, { title: 'Renamed', state: { step: 2 } }, { orgId: 'acme' })
    expect(updated).toMatchObject({ title: 'Renamed', state: { step: 2 }, metadata: { channel: 'web' } })
    await expect(runtime.updateSession(session.id, { colour: 'red' } as never)).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.updateSession(session.id, { agent: 'ghost' })).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(runtime.updateSession(session.id, { title: 'x' }, { orgId: 'other' })).rejects.toMatchObject({ code: 'not_found.thread' })
    await runtime.deleteSession(session.id)
    await expect(runtime.getSession(session.id)).rejects.toMatchObject({ code: 'not_found.thread' })
    await runtime.close()
  })

  it('lists an org’s sessions newest first, by user, with a cursor', async () => {
    const { runtime } = await openRuntime([reply('x')])
    const made = []
    for (let index = 0; index < 5; index++) made.push(await runtime.createSession({ orgId: 'acme', userId: index < 3 ? 'u1' : 'u2' }))
    await runtime.createSession({ orgId: 'other' })
    const ids = made.map((session) => session.id).reverse()
    const page1 = await runtime.listSessions({ orgId: 'acme', limit: 2 })
    const page2 = await runtime.listSessions({ orgId: 'acme', limit: 2, before: page1[1]?.id })
    expect([...page1, ...page2].map((session) => session.id)).toEqual(ids.slice(0, 4))
    expect((await runtime.listSessions({ orgId: 'acme', userId: 'u2' })).map((session) => session.id)).toEqual(ids.slice(0, 2))
    await expect(runtime.listSessions({ orgId: 'acme', limit: 0 })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.listSessions({ orgId: 'acme', limit: 101 })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.listSessions({ orgId: 'acme', before: 'thr_unknown' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await runtime.close()
  })

  it('rejects a session whose agent is not defined, and bad fields', async () => {
    const { runtime } = await openRuntime([reply('x')])
    await expect(runtime.createSession({ agent: 'ghost' })).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(runtime.createSession({ metadata: 'x' as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createSession({ title: 5 as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.listSessions()).toEqual([])
    await runtime.close()
  })

  it('deletes a session with its runs and events, cancelling its active run first', async () => {
    const { runtime } = await openRuntime([reply('slow words here', { delayMs: 50 })])
    const session = await runtime.createSession()
    const done = await runtime.createRun(session.id, { input: 'x' })
    await done.result()
    const live = await runtime.createRun(session.id, { input: 'y' })
    const liveEvents = collect(live.events())
    await runtime.deleteSession(session.id)
    const events = await liveEvents
    expect(events[events.length - 1]?.type).toBe('run.cancelled')
    await expect(runtime.getRun(done.id)).rejects.toMatchObject({ code: 'not_found.run' })
    await expect(runtime.getRun(live.id)).rejects.toMatchObject({ code: 'not_found.run' })
    expect(await runtime.listRuns()).toEqual([])
    await runtime.close()
  })

  it('lists runs by org, session and status, newest first, with a cursor', async () => {
    const { runtime } = await openRuntime([reply('x')])
    const a = await runtime.createSession({ orgId: 'acme' })
    const b = await runtime.createSession({ orgId: 'acme' })
    const runs = []
    for (const session of [a, b, a, b]) {
      const run = await runtime.createRun(session.id, { input: 'x', createdBy: { userId: 'u9' } })
      await run.result()
      runs.push(run)
    }
    const ids = runs.map((run) => run.id).reverse()
    expect((await runtime.listRuns({ orgId: 'acme' })).map((run) => run.id)).toEqual(ids)
    expect((await runtime.listRuns({ orgId: 'acme', sessionId: a.id })).map((run) => run.id)).toEqual([runs[2]?.id, runs[0]?.id])
    expect(await runtime.listRuns({ orgId: 'acme', status: 'failed' })).toEqual([])
    expect(await runtime.listRuns({ orgId: 'acme', status: ['completed', 'failed'], limit: 1 })).toHaveLength(1)
    const page2 = await runtime.listRuns({ orgId: 'acme', limit: 2, before: ids[1] })
    expect(page2.map((run) => run.id)).toEqual(ids.slice(2))
    expect(await runtime.listRuns({ orgId: 'other' })).toEqual([])
    expect((await runtime.getRun(runs[0]!.id)).createdBy).toEqual({ userId: 'u9' })
    await expect(runtime.listRuns({ status: 'done' as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.listRuns({ before: 'run_unknown' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.listRuns({ sessionId: a.id, before: runs[1]!.id })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.getRun(runs[0]!.id, { orgId: 'other' })).rejects.toMatchObject({ code: 'not_found.run' })
    await runtime.close()
  })
})
