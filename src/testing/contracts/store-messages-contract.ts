/**
 * The Store contract's cases for thread messages and the run fields that go
 * with them (`messageIds`, `output`). Registered by `runStoreContract`, inside
 * its describe block, so every store runs them.
 */
import { expect, it } from 'vitest'
import type { Run, Session, Store } from '../../store.js'
import { iso, makeDelta, makeMessage, makeRun, makeSession, type StoreFixture } from './store-fixtures.js'

/** Registers the message cases; `current` gives the open store (and its fixture) of the running case. */
export function messageContractCases(current: () => { store: Store; fixture: StoreFixture }): void {
  async function sessionWithRun(overrides: Partial<Run> = {}): Promise<{ store: Store; session: Session; run: Run }> {
    const { store } = current()
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session, { messageIds: [], input: '', ...overrides })
    await store.commit({ insertRun: run })
    return { store, session, run }
  }

  it('adds messages and lists them newest first, oldest first, unanswered only, with a cursor', async () => {
    const { store } = current()
    const session = makeSession()
    const other = makeSession()
    await store.insertSession(session)
    await store.insertSession(other)
    const messages = [0, 1, 2, 3, 4].map((index) => makeMessage(session, { content: `m${index} h\u00e9 \u{1F525}`, createdAt: iso(index) }))
    for (const message of messages) await store.insertMessage(message)
    await store.insertMessage(makeMessage(other))
    const newest = [...messages].reverse()
    const page1 = await store.listMessages({ sessionId: session.id, limit: 2 })
    expect(page1).toEqual(newest.slice(0, 2))
    expect(await store.listMessages({ sessionId: session.id, limit: 10, before: page1[1]?.id })).toEqual(newest.slice(2))
    expect(await store.listMessages({ sessionId: session.id, limit: 2, order: 'asc' })).toEqual(messages.slice(0, 2))
    expect(await store.listMessages({ sessionId: session.id, limit: 10, order: 'asc', before: messages[2]?.id })).toEqual(messages.slice(3))
    expect(await store.listMessages({ sessionId: session.id, unanswered: true, limit: 10, order: 'asc' })).toEqual(messages)
    expect(await store.listMessages({ sessionId: 'thr_missing', limit: 10 })).toEqual([])
    expect(await store.getMessage(messages[3]?.id as string)).toEqual(messages[3])
    expect(await store.getMessage('msg_missing')).toBeUndefined()
    // Reads are copies.
    const read = (await store.listMessages({ sessionId: session.id, limit: 1 }))[0] as (typeof messages)[number]
    read.content = 'mutated'
    expect((await store.listMessages({ sessionId: session.id, limit: 1 }))[0]).toEqual(newest[0])
  })

  it('refuses a message of a missing session and a duplicate message id', async () => {
    const { store } = current()
    await expect(store.insertMessage(makeMessage(makeSession()))).rejects.toMatchObject({ code: 'storage.failed' })
    const session = makeSession()
    await store.insertSession(session)
    const message = makeMessage(session)
    await store.insertMessage(message)
    await expect(store.insertMessage(message)).rejects.toMatchObject({ code: 'storage.failed' })
    expect(await store.listMessages({ sessionId: session.id, limit: 10 })).toEqual([message])
  })

  it('gives messages to a run in the commit that starts it, with its patch and events', async () => {
    const { store, session, run } = await sessionWithRun()
    const [first, second, later] = [makeMessage(session), makeMessage(session), makeMessage(session)]
    for (const message of [first, second, later]) await store.insertMessage(message!)
    const taken = [first!.id, second!.id]
    await store.commit({
      run: { id: run.id, patch: { status: 'running', input: 'a\n\nb', messageIds: taken } },
      events: [makeDelta(run, 1)],
      answerMessages: { runId: run.id, messageIds: taken },
    })
    expect(await store.getRun(run.id)).toMatchObject({ status: 'running', input: 'a\n\nb', messageIds: taken, lastSeq: 1 })
    expect((await store.listMessages({ sessionId: session.id, limit: 10, order: 'asc' })).map((message) => message.runId)).toEqual([run.id, run.id, null])
    expect(await store.listMessages({ sessionId: session.id, unanswered: true, limit: 10 })).toEqual([later])
  })

  it('gives messages to a run inserted in the same commit', async () => {
    const { store } = current()
    const session = makeSession()
    await store.insertSession(session)
    const message = makeMessage(session)
    await store.insertMessage(message)
    const run = makeRun(session, { messageIds: [message.id] })
    await store.commit({ insertRun: run, events: [makeDelta(run, 1)], answerMessages: { runId: run.id, messageIds: [message.id] } })
    expect(await store.listMessages({ sessionId: session.id, limit: 10 })).toEqual([{ ...message, runId: run.id }])
  })

  it('refuses a message another run took (storage.conflict) and writes nothing of that commit', async () => {
    const { store, session, run } = await sessionWithRun()
    const rival = makeRun(session, { messageIds: [] })
    await store.commit({ insertRun: rival })
    const [free, contested] = [makeMessage(session), makeMessage(session)]
    await store.insertMessage(free!)
    await store.insertMessage(contested!)
    await store.commit({ events: [makeDelta(rival, 1)], answerMessages: { runId: rival.id, messageIds: [contested!.id] } })
    expect(await store.getMessage(contested!.id)).toEqual({ ...contested, runId: rival.id })
    await expect(
      store.commit({
        run: { id: run.id, patch: { status: 'running' } },
        events: [makeDelta(run, 1)],
        answerMessages: { runId: run.id, messageIds: [free!.id, contested!.id] },
      }),
    ).rejects.toMatchObject({ code: 'storage.conflict' })
    expect(await store.getRun(run.id)).toMatchObject({ status: 'queued', lastSeq: 0 })
    expect(await store.readEvents(run.id, 0, 10)).toEqual([])
    expect((await store.listMessages({ sessionId: session.id, limit: 10, order: 'asc' })).map((message) => message.runId)).toEqual([null, rival.id])
  })

  it('lets exactly one of two commits of one tick take the same message', async () => {
    const { store, session, run } = await sessionWithRun()
    const rival = makeRun(session, { messageIds: [] })
    await store.commit({ insertRun: rival })
    const message = makeMessage(session)
    await store.insertMessage(message)
    const results = await Promise.allSettled(
      [run, rival].map((taker) => store.commit({ events: [makeDelta(taker, 1)], answerMessages: { runId: taker.id, messageIds: [message.id] } })),
    )
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'storage.conflict' })
    const winner = results[0]?.status === 'fulfilled' ? run : rival
    expect((await store.listMessages({ sessionId: session.id, limit: 1 }))[0]?.runId).toBe(winner.id)
    expect((await store.getRun(winner.id))?.lastSeq).toBe(1)
  })

  it('refuses a message of another session, an unknown one, or one named twice (storage.failed), writing nothing', async () => {
    const { store, session, run } = await sessionWithRun()
    const elsewhere = makeSession()
    await store.insertSession(elsewhere)
    const foreign = makeMessage(elsewhere)
    const own = makeMessage(session)
    await store.insertMessage(foreign)
    await store.insertMessage(own)
    for (const messageIds of [[own.id, foreign.id], ['msg_missing'], [own.id, own.id]]) {
      await expect(store.commit({ events: [makeDelta(run, 1)], answerMessages: { runId: run.id, messageIds } })).rejects.toMatchObject({
        code: 'storage.failed',
      })
    }
    expect((await store.getRun(run.id))?.lastSeq).toBe(0)
    expect((await store.listMessages({ sessionId: session.id, limit: 10 }))[0]?.runId).toBeNull()
    expect((await store.listMessages({ sessionId: elsewhere.id, limit: 10 }))[0]?.runId).toBeNull()
  })

  it('deletes a session’s messages with it; pruning a run leaves its messages answered by it', async () => {
    const { store, session, run } = await sessionWithRun()
    const message = makeMessage(session)
    await store.insertMessage(message)
    await store.commit({ run: { id: run.id, patch: { status: 'completed', completedAt: iso(1) } }, answerMessages: { runId: run.id, messageIds: [message.id] } })
    expect(await store.pruneRuns?.(iso(2), 10)).toBe(1)
    expect(await store.listMessages({ sessionId: session.id, limit: 10 })).toEqual([{ ...message, runId: run.id }])
    expect(await store.listMessages({ sessionId: session.id, unanswered: true, limit: 10 })).toEqual([])
    expect(await store.deleteSession(session.id)).toBe(true)
    expect(await store.listMessages({ sessionId: session.id, limit: 10 })).toEqual([])
    await store.insertSession(session)
    expect(await store.listMessages({ sessionId: session.id, limit: 10 })).toEqual([])
  })

  it('keeps a run’s messageIds and its parsed output, null or a nested JSON value', async () => {
    const { store, run } = await sessionWithRun()
    expect(await store.getRun(run.id)).toMatchObject({ messageIds: [], output: null })
    const output = { answer: '42', tags: ['a', 'b'], score: 0.5, nested: { ok: true, none: null } }
    await store.commit({ run: { id: run.id, patch: { messageIds: ['msg_a', 'msg_b'], status: 'completed', content: JSON.stringify(output), output } } })
    expect(await store.getRun(run.id)).toMatchObject({ messageIds: ['msg_a', 'msg_b'], output })
    const plain = makeRun(makeSession({ id: run.sessionId }))
    await store.commit({ insertRun: plain })
    expect(await store.getRun(plain.id)).toMatchObject({ messageIds: null, output: null })
  })

  it('keeps messages across a reopen', async () => {
    const { fixture } = current()
    if (fixture.reopen === undefined) return
    const { store, session, run } = await sessionWithRun()
    const [taken, waiting] = [makeMessage(session), makeMessage(session)]
    await store.insertMessage(taken!)
    await store.insertMessage(waiting!)
    await store.commit({ events: [makeDelta(run, 1)], answerMessages: { runId: run.id, messageIds: [taken!.id] } })
    const reopened = await fixture.reopen()
    await reopened.open()
    try {
      expect(await reopened.listMessages({ sessionId: session.id, limit: 10, order: 'asc' })).toEqual([{ ...taken, runId: run.id }, waiting])
    } finally {
      await reopened.close()
    }
  })
}
