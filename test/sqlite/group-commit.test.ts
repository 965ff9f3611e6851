import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStore } from '../../adapters/sqlite/index.js'
import type { Run, Session } from '../../src/store.js'
import { z } from 'zod'
import { Runtime, tool } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
let path: string
let store: SqliteStore

beforeEach(async () => {
  temp = await tempDirectory()
  path = temp.file('group.db')
  store = sqliteStore({ path })
  await store.open()
})
afterEach(async () => {
  await store.close()
  await temp.cleanup()
})

async function sessionsWithRuns(count: number): Promise<{ session: Session; run: Run }[]> {
  const made: { session: Session; run: Run }[] = []
  for (let index = 0; index < count; index++) {
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session)
    made.push({ session, run })
  }
  await Promise.all(made.map(({ run }) => store.commit({ insertRun: run })))
  return made
}

async function oneRun(): Promise<Run> {
  const [made] = await sessionsWithRuns(1)
  return (made as { run: Run }).run
}

describe('group commit', () => {
  it('applies the commits of one tick in one transaction', async () => {
    const made = await sessionsWithRuns(50)
    const before = store.statistics
    await Promise.all(made.map(({ run }) => store.commit({ events: [makeDelta(run, 1)] })))
    const after = store.statistics
    expect(after.transactions - before.transactions).toBe(1)
    expect(after.commits - before.commits).toBe(50)
    for (const { run } of made) expect((await store.getRun(run.id))?.lastSeq).toBe(1)
  })

  it('rejects only the failing commit of a batch; its neighbours land', async () => {
    const [a, b, c] = (await sessionsWithRuns(3)) as [{ session: Session; run: Run }, { session: Session; run: Run }, { session: Session; run: Run }]
    const before = store.statistics
    const results = await Promise.allSettled([
      store.commit({ events: [makeDelta(a.run, 1)] }),
      // A gap in seq: this commit fails, and its run patch and session state must not land either.
      store.commit({
        run: { id: b.run.id, patch: { status: 'running' } },
        events: [makeDelta(b.run, 2)],
        sessionState: { sessionId: b.session.id, state: { touched: true }, updatedAt: new Date().toISOString() },
      }),
      store.commit({ events: [makeDelta(c.run, 1), makeDelta(c.run, 2)] }),
      store.commit({ events: [makeDelta(a.run, 2)] }),
    ])
    // One batch: tried whole, rolled back on the failure, applied again commit by commit.
    expect(store.statistics.retries - before.retries).toBe(1)
    expect(store.statistics.transactions - before.transactions).toBe(2)
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'storage.conflict' })
    expect((await store.readEvents(a.run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2])
    expect((await store.readEvents(c.run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2])
    expect(await store.readEvents(b.run.id, 0, 10)).toEqual([])
    expect(await store.getRun(b.run.id)).toMatchObject({ status: 'queued', lastSeq: 0 })
    expect((await store.getSession(b.session.id))?.state).toEqual({})
  })

  it('applies the commits of a batch in call order', async () => {
    const run = await oneRun()
    await Promise.all([1, 2, 3, 4, 5].map((seq) => store.commit({ events: [makeDelta(run, seq)] })))
    expect((await store.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5])
  })

  it('settles a commit only once another connection can read it', async () => {
    const run = await oneRun()
    const reader = new Database(path, { readonly: true })
    try {
      const count = reader.prepare('SELECT count(*) FROM events WHERE run_id = ?').pluck()
      const seen: number[] = []
      await Promise.all(
        [1, 2, 3].map((seq) =>
          store.commit({ events: [makeDelta(run, seq)] }).then(() => {
            seen.push(count.get(run.id) as number)
          }),
        ),
      )
      expect(seen).toEqual([3, 3, 3])
    } finally {
      reader.close()
    }
  })

  it('keeps writes outside commit in call order with pending commits', async () => {
    const session = makeSession()
    await store.insertSession(session)
    const pending = store.commit({ sessionState: { sessionId: session.id, state: { from: 'commit' }, updatedAt: new Date().toISOString() } })
    const updated = await store.updateSession(session.id, { state: { from: 'update' }, updatedAt: new Date().toISOString() })
    await pending
    expect(updated?.state).toEqual({ from: 'update' })
    expect((await store.getSession(session.id))?.state).toEqual({ from: 'update' })
  })

  it('lands pending commits on close, and rejects commits after it', async () => {
    const run = await oneRun()
    const pending = store.commit({ events: [makeDelta(run, 1)] })
    await store.close()
    await expect(pending).resolves.toBeUndefined()
    await expect(store.commit({ events: [makeDelta(run, 2)] })).rejects.toMatchObject({ code: 'storage.failed' })
    store = sqliteStore({ path })
    await store.open()
    expect((await store.getRun(run.id))?.lastSeq).toBe(1)
  })

  it('rejects a run patch that would change what identifies the run or its seq', async () => {
    const run = await oneRun()
    const patch = { lastSeq: 9 } as unknown as Partial<Run>
    await expect(store.commit({ run: { id: run.id, patch } })).rejects.toMatchObject({ code: 'storage.failed' })
    expect((await store.getRun(run.id))?.lastSeq).toBe(0)
  })

  it('rejects events that name another session than their run', async () => {
    const run = await oneRun()
    await expect(store.commit({ events: [{ ...makeDelta(run, 1), sessionId: 'thr_other' }] })).rejects.toMatchObject({ code: 'storage.failed' })
    expect(await store.readEvents(run.id, 0, 10)).toEqual([])
  })

  it('keeps seq dense across two stores writing the same run from one file', async () => {
    const run = await oneRun()
    const other = sqliteStore({ path })
    await other.open()
    try {
      const results = await Promise.allSettled([store.commit({ events: [makeDelta(run, 1, 'mine')] }), other.commit({ events: [makeDelta(run, 1, 'theirs')] })])
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
      expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'storage.conflict' })
      expect((await other.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1])
      await other.commit({ events: [makeDelta(run, 2)] })
      expect((await store.getRun(run.id))?.lastSeq).toBe(2)
    } finally {
      await other.close()
    }
  })

  it('commits a run that answers within the tick, insert and all, in one transaction; a tool waits for its tool.call to be stored', async () => {
    const stored: string[] = []
    const lookup = tool({
      name: 'lookup',
      input: z.object({}),
      execute: async (_, { runId }) => {
        // What another connection sees while the tool runs: the call is already in the file.
        const reader = new Database(path, { readonly: true })
        stored.push(...(reader.prepare('SELECT type FROM events WHERE run_id = ? ORDER BY seq').pluck().all(runId) as string[]))
        reader.close()
        return 'found'
      },
    })
    const runtime = await Runtime.open({
      store,
      providers: { scripted: scriptedModel((request) => (request.messages.some((message) => message.role === 'tool') ? reply('done') : request.messages.at(-1)?.content === 'chat' ? reply('hello there') : callTools({ name: 'lookup', arguments: {} }))) },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'a', version: 1, tools: [lookup] }],
    })
    const session = await runtime.createSession()
    const before = store.statistics.transactions
    const chat = await runtime.createRun(session.id, { input: 'chat' })
    expect(store.statistics.transactions - before).toBe(1)
    expect((await runtime.getRun(chat.id)).status).toBe('completed')

    const withTool = await runtime.createRun(session.id, { input: 'look it up' })
    expect((await withTool.result()).status).toBe('completed')
    expect(stored).toEqual(['run.started', 'message.completed', 'tool.call'])
    await runtime.close()
  })
})
