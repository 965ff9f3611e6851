/**
 * The Store contract: every Store adapter runs this whole suite unchanged.
 *
 *   runStoreContract('sqlite', async () => ({ store: sqliteStore({ path }), reopen: ... }))
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RunEvent } from '../../events.js'
import type { Run, Session, Store } from '../../store.js'
import { iso, makeDelta, makeRun, makeSession, type StoreFixture } from './store-fixtures.js'
import { messageContractCases } from './store-messages-contract.js'
import { recordContractCases } from './store-records-contract.js'
import { sharingContractCases } from './store-sharing-contract.js'
import { memoryContractCases } from './store-memories-contract.js'

/** Runs the whole Store contract against the stores `factory` makes. */
export function runStoreContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture
    let store: Store

    beforeEach(async () => {
      fixture = await factory()
      store = fixture.store
      await store.open()
    })

    afterEach(async () => {
      await store.close().catch(() => {})
      await fixture.cleanup?.()
    })

    async function sessionWithRun(sessionOverrides: Partial<Session> = {}): Promise<{ session: Session; run: Run }> {
      const session = makeSession(sessionOverrides)
      await store.insertSession(session)
      const run = makeRun(session)
      await store.commit({ insertRun: run })
      return { session, run }
    }

    it('has a non-empty string id', () => {
      expect(typeof store.id).toBe('string')
      expect(store.id.length).toBeGreaterThan(0)
    })

    it('creates, reads, updates and deletes a session', async () => {
      const session = makeSession({ metadata: { nested: { a: [1, 2] } } })
      await store.insertSession(session)
      expect(await store.getSession(session.id)).toEqual(session)
      const updated = await store.updateSession(session.id, { title: 'New', state: { count: 2 }, updatedAt: iso(5) })
      expect(updated).toEqual({ ...session, title: 'New', state: { count: 2 }, updatedAt: iso(5) })
      expect(await store.getSession(session.id)).toEqual(updated)
      expect(await store.deleteSession(session.id)).toBe(true)
      expect(await store.getSession(session.id)).toBeUndefined()
      expect(await store.deleteSession(session.id)).toBe(false)
      expect(await store.updateSession(session.id, { title: 'x', updatedAt: iso() })).toBeUndefined()
    })

    it('returns copies: changing a returned record does not change the store', async () => {
      const session = makeSession()
      await store.insertSession(session)
      const read = (await store.getSession(session.id)) as Session
      read.title = 'mutated'
      read.metadata.tag = 'mutated'
      expect(await store.getSession(session.id)).toEqual(session)
    })

    it('rejects a duplicate session id', async () => {
      const session = makeSession()
      await store.insertSession(session)
      await expect(store.insertSession(session)).rejects.toMatchObject({ code: 'storage.failed' })
    })

    it('lists sessions newest first, by org and user, with a cursor', async () => {
      const sessions: Session[] = []
      for (let index = 0; index < 5; index++) {
        const session = makeSession({ userId: index % 2 === 0 ? 'even' : 'odd' })
        sessions.push(session)
        await store.insertSession(session)
      }
      await store.insertSession(makeSession({ orgId: 'org_b' }))
      const ids = sessions.map((session) => session.id).reverse()
      const firstPage = await store.listSessions({ orgId: 'org_a', limit: 2 })
      expect(firstPage.map((session) => session.id)).toEqual(ids.slice(0, 2))
      const secondPage = await store.listSessions({ orgId: 'org_a', limit: 2, before: firstPage[1]?.id })
      expect(secondPage.map((session) => session.id)).toEqual(ids.slice(2, 4))
      const evens = await store.listSessions({ orgId: 'org_a', userId: 'even', limit: 10 })
      expect(evens.map((session) => session.id)).toEqual(ids.filter((_, index) => index % 2 === 0))
      expect(await store.listSessions({ orgId: 'org_c', limit: 10 })).toEqual([])
    })

    it('inserts a run and reads it back', async () => {
      const { run, session } = await sessionWithRun()
      expect(await store.getRun(run.id)).toEqual(run)
      expect(await store.getRun('run_missing')).toBeUndefined()
      const limited = makeRun(session, { limits: { maxDurationMs: 60_000, maxTotalTokens: 4000, maxCostUsd: 0.25 } })
      await store.commit({ insertRun: limited })
      expect(await store.getRun(limited.id)).toEqual(limited)
    })

    it('commits a run patch and events together and advances lastSeq', async () => {
      const { run } = await sessionWithRun()
      const events = [1, 2, 3].map((seq) => makeDelta(run, seq))
      await store.commit({ run: { id: run.id, patch: { status: 'running', startedAt: iso(1) } }, events })
      const read = await store.getRun(run.id)
      expect(read).toMatchObject({ status: 'running', startedAt: iso(1), lastSeq: 3 })
      expect(await store.readEvents(run.id, 0, 100)).toEqual(events)
    })

    it('inserts a run with its first event in one commit', async () => {
      const session = makeSession()
      await store.insertSession(session)
      const run = makeRun(session)
      await store.commit({
        insertRun: run,
        run: { id: run.id, patch: { status: 'running' } },
        events: [{ runId: run.id, sessionId: session.id, seq: 1, type: 'run.started', data: { persona_id: 'support@1', route_id: 'default', model: 'm', model_provider: 'p' }, createdAt: iso() }],
      })
      expect(await store.getRun(run.id)).toMatchObject({ status: 'running', lastSeq: 1 })
    })

    it('inserts a whole run in one commit: insert, the patches that start and finish it, its events, the session state', async () => {
      const session = makeSession()
      await store.insertSession(session)
      const run = makeRun(session)
      const events = [1, 2, 3].map((seq) => makeDelta(run, seq))
      await store.commit({
        insertRun: run,
        run: { id: run.id, patch: { status: 'completed', startedAt: iso(1), completedAt: iso(2), content: 'done', pendingInput: undefined } },
        events,
        sessionState: { sessionId: session.id, state: { done: true }, updatedAt: iso(2) },
      })
      expect(await store.getRun(run.id)).toEqual({ ...run, status: 'completed', startedAt: iso(1), completedAt: iso(2), content: 'done', lastSeq: 3 })
      expect(await store.readEvents(run.id, 0, 100)).toEqual(events)
      expect((await store.getSession(session.id))?.state).toEqual({ done: true })
      // Finished in its first commit, it is prunable like any finished run.
      expect(await store.pruneRuns?.(iso(3), 10)).toBe(1)
    })

    it('writes nothing of an insert whose events do not start at seq 1, or whose patch sets a fixed field', async () => {
      const session = makeSession()
      await store.insertSession(session)
      const run = makeRun(session)
      await expect(store.commit({ insertRun: run, events: [makeDelta(run, 2)] })).rejects.toMatchObject({ code: 'storage.conflict' })
      await expect(store.commit({ insertRun: run, run: { id: run.id, patch: { lastSeq: 5 } as never }, events: [makeDelta(run, 1)] })).rejects.toMatchObject({
        code: 'storage.failed',
      })
      expect(await store.getRun(run.id)).toBeUndefined()
      expect(await store.readEvents(run.id, 0, 100)).toEqual([])
    })

    it('keeps seq dense: a gap or a duplicate fails with storage.conflict and writes nothing', async () => {
      const { run } = await sessionWithRun()
      await store.commit({ events: [makeDelta(run, 1)] })
      await expect(store.commit({ run: { id: run.id, patch: { status: 'running' } }, events: [makeDelta(run, 3)] })).rejects.toMatchObject({
        code: 'storage.conflict',
      })
      await expect(store.commit({ events: [makeDelta(run, 1)] })).rejects.toMatchObject({ code: 'storage.conflict' })
      await expect(store.commit({ events: [makeDelta(run, 2), makeDelta(run, 4)] })).rejects.toMatchObject({ code: 'storage.conflict' })
      const read = await store.getRun(run.id)
      expect(read).toMatchObject({ status: 'queued', lastSeq: 1 })
      expect((await store.readEvents(run.id, 0, 100)).map((event) => event.seq)).toEqual([1])
    })

    it('fails a commit for an unknown run and writes none of it', async () => {
      const { session, run } = await sessionWithRun()
      await expect(
        store.commit({
          run: { id: 'run_missing', patch: { status: 'running' } },
          sessionState: { sessionId: session.id, state: { touched: true }, updatedAt: iso(9) },
        }),
      ).rejects.toMatchObject({ code: 'storage.failed' })
      expect((await store.getSession(session.id))?.state).toEqual({})
      expect((await store.getRun(run.id))?.status).toBe('queued')
    })

    it('rejects a run for a missing session and a duplicate run id', async () => {
      const session = makeSession()
      await expect(store.commit({ insertRun: makeRun(session) })).rejects.toMatchObject({ code: 'storage.failed' })
      const { run } = await sessionWithRun()
      await expect(store.commit({ insertRun: run })).rejects.toMatchObject({ code: 'storage.failed' })
    })

    it('writes session state in the same commit as the events', async () => {
      const { session, run } = await sessionWithRun()
      await store.commit({ events: [makeDelta(run, 1)], sessionState: { sessionId: session.id, state: { cart: ['a'] }, updatedAt: iso(7) } })
      expect(await store.getSession(session.id)).toMatchObject({ state: { cart: ['a'] }, updatedAt: iso(7) })
    })

    it('keeps a context summary on the session with the commit that carries it, replacing the one before, and survives a reopen', async () => {
      const { session, run } = await sessionWithRun()
      expect((await store.getSession(session.id))?.contextSummary).toBeNull()
      const first = { summary: 'The user is Ada.', coversThroughRunId: 'run_a', runId: run.id, createdAt: iso(3) }
      await store.commit({ events: [makeDelta(run, 1)], contextSummary: { sessionId: session.id, summary: first } })
      expect((await store.getSession(session.id))?.contextSummary).toEqual(first)
      const second = { summary: 'The user is Ada, from Paris.', coversThroughRunId: 'run_b', runId: run.id, createdAt: iso(4) }
      await store.commit({ events: [makeDelta(run, 2)], contextSummary: { sessionId: session.id, summary: second } })
      expect((await store.getSession(session.id))?.contextSummary).toEqual(second)
      expect((await store.listSessions({ orgId: session.orgId, limit: 10 })).find((entry) => entry.id === session.id)?.contextSummary).toEqual(second)
      // An unknown session fails the whole commit.
      await expect(store.commit({ events: [makeDelta(run, 3)], contextSummary: { sessionId: 'thr_missing', summary: first } })).rejects.toMatchObject({ code: 'storage.failed' })
      expect((await store.getRun(run.id))?.lastSeq).toBe(2)
      if (fixture.reopen !== undefined) {
        store = await fixture.reopen()
        await store.open()
        expect((await store.getSession(session.id))?.contextSummary).toEqual(second)
      }
    })

    it('reads events after a seq, with a limit', async () => {
      const { run } = await sessionWithRun()
      const events = Array.from({ length: 10 }, (_, index) => makeDelta(run, index + 1))
      await store.commit({ events: events.slice(0, 4) })
      await store.commit({ events: events.slice(4) })
      expect((await store.readEvents(run.id, 3, 4)).map((event) => event.seq)).toEqual([4, 5, 6, 7])
      expect((await store.readEvents(run.id, 8, 100)).map((event) => event.seq)).toEqual([9, 10])
      expect(await store.readEvents(run.id, 10, 100)).toEqual([])
      expect(await store.readEvents('run_missing', 0, 100)).toEqual([])
    })

    it('keeps every event field, including nested data and unicode', async () => {
      const { run } = await sessionWithRun()
      const event: RunEvent = {
        runId: run.id,
        sessionId: run.sessionId,
        seq: 1,
        type: 'tool.result',
        data: { tool_call_id: 'c1', name: 'lookup', output: { items: [1, 'zwei', null, { drei: true }], text: 'héllo \u{1F525}' }, is_error: false },
        createdAt: iso(1),
      }
      await store.commit({ events: [event] })
      expect(await store.readEvents(run.id, 0, 10)).toEqual([event])
    })

    it('lists runs newest first by org, session and status, with a cursor', async () => {
      const { session } = await sessionWithRun()
      const other = makeSession()
      await store.insertSession(other)
      const runs: Run[] = []
      for (let index = 0; index < 6; index++) {
        const run = makeRun(index % 2 === 0 ? session : other, { status: index % 3 === 0 ? 'completed' : 'queued' })
        runs.push(run)
        await store.commit({ insertRun: run })
      }
      const foreign = makeSession({ orgId: 'org_b' })
      await store.insertSession(foreign)
      await store.commit({ insertRun: makeRun(foreign) })

      const all = await store.listRuns({ orgId: 'org_a', limit: 100 })
      expect(all).toHaveLength(7)
      const ids = all.map((run) => run.id)
      expect([...ids].sort().reverse()).toEqual(ids)

      const page1 = await store.listRuns({ orgId: 'org_a', limit: 3 })
      const page2 = await store.listRuns({ orgId: 'org_a', limit: 3, before: page1[2]?.id })
      expect([...page1, ...page2].map((run) => run.id)).toEqual(ids.slice(0, 6))

      const inOther = await store.listRuns({ sessionId: other.id, limit: 100 })
      expect(inOther.map((run) => run.id)).toEqual(runs.filter((run) => run.sessionId === other.id).map((run) => run.id).reverse())

      const completed = await store.listRuns({ orgId: 'org_a', statuses: ['completed'], limit: 100 })
      expect(completed.map((run) => run.id)).toEqual(runs.filter((run) => run.status === 'completed').map((run) => run.id).reverse())

      const ascending = await store.listRuns({ sessionId: session.id, limit: 2, order: 'asc' })
      expect(ascending.map((run) => run.id)).toEqual(ids.slice().reverse().slice(0, 2))
      const ascending2 = await store.listRuns({ sessionId: session.id, limit: 10, order: 'asc', before: ascending[1]?.id })
      expect(ascending2.map((run) => run.id)).toEqual(runs.filter((run) => run.sessionId === session.id).map((run) => run.id).slice(1))

      const anyOrg = await store.listRuns({ statuses: ['queued'], limit: 100 })
      expect(anyOrg.some((run) => run.orgId === 'org_b')).toBe(true)
    })

    it('keeps orgs apart in lists', async () => {
      await sessionWithRun({ orgId: 'org_a' })
      await sessionWithRun({ orgId: 'org_b' })
      const a = await store.listRuns({ orgId: 'org_a', limit: 100 })
      const b = await store.listRuns({ orgId: 'org_b', limit: 100 })
      expect(a.every((run) => run.orgId === 'org_a')).toBe(true)
      expect(b.every((run) => run.orgId === 'org_b')).toBe(true)
      expect(a.length + b.length).toBe(2)
      expect((await store.listSessions({ orgId: 'org_b', limit: 100 })).every((session) => session.orgId === 'org_b')).toBe(true)
    })

    it('deletes a session with its runs and their events', async () => {
      const { session, run } = await sessionWithRun()
      await store.commit({ events: [makeDelta(run, 1), makeDelta(run, 2)] })
      const { run: kept } = await sessionWithRun()
      expect(await store.deleteSession(session.id)).toBe(true)
      expect(await store.getRun(run.id)).toBeUndefined()
      expect(await store.readEvents(run.id, 0, 100)).toEqual([])
      expect(await store.getRun(kept.id)).toBeDefined()
    })

    it('keeps the terminal run record whole (messages, metrics, error)', async () => {
      const { run } = await sessionWithRun()
      const patch = {
        status: 'failed' as const,
        content: 'partial',
        messages: [
          { role: 'user' as const, content: 'hi', createdAt: iso() },
          { role: 'assistant' as const, content: '', toolCalls: [{ id: 'c1', name: 'x', arguments: '{}' }], createdAt: iso() },
          { role: 'tool' as const, toolCallId: 'c1', name: 'x', content: 'boom', isError: true, createdAt: iso() },
        ],
        metrics: { ...run.metrics, inputTokens: 10, outputTokens: 5, totalTokens: 15, durationMs: 12, timeToFirstTokenMs: 3 },
        totalCostUsd: 0.000123,
        cacheHitRate: 0.5,
        creditsUsed: 1,
        error: { code: 'provider.unavailable' as const, message: 'down' },
        pendingInput: [],
        failedAt: iso(3),
      }
      await store.commit({ run: { id: run.id, patch } })
      expect(await store.getRun(run.id)).toEqual({ ...run, ...patch })
    })

    it('keeps committed data across a reopen', async () => {
      if (fixture.reopen === undefined) return
      const { session, run } = await sessionWithRun()
      await store.commit({ run: { id: run.id, patch: { status: 'running' } }, events: [makeDelta(run, 1), makeDelta(run, 2)] })
      store = await fixture.reopen()
      await store.open()
      expect(await store.getSession(session.id)).toEqual({ ...session, activeRunId: run.id })
      expect(await store.getRun(run.id)).toMatchObject({ status: 'running', lastSeq: 2 })
      expect((await store.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2])
    })

    it('offers ownership, pruning and (optionally) watching', () => {
      for (const method of ['registerOwner', 'heartbeat', 'listOwners', 'removeOwner', 'claimRuns', 'getRunOwner', 'pruneRuns'] as const) {
        expect(typeof store[method], method).toBe('function')
      }
      expect(['function', 'undefined']).toContain(typeof store.watch)
    })

    const owner = (id: string, heartbeatAt = iso()) => ({ id, pid: 4242, host: 'host-a', startedAt: iso(), heartbeatAt })

    it('registers owners, beats their hearts and removes them', async () => {
      await store.registerOwner?.(owner('own_1'))
      await store.registerOwner?.(owner('own_2'))
      expect((await store.listOwners?.())?.map((entry) => entry.id).sort()).toEqual(['own_1', 'own_2'])
      expect(await store.heartbeat?.('own_1', iso(50))).toBe(true)
      expect((await store.listOwners?.())?.find((entry) => entry.id === 'own_1')).toEqual(owner('own_1', iso(50)))
      await store.removeOwner?.('own_1')
      expect(await store.heartbeat?.('own_1', iso(60))).toBe(false)
      expect((await store.listOwners?.())?.map((entry) => entry.id)).toEqual(['own_2'])
    })

    it('claims unowned, orphaned and dead owners’ unfinished runs, never a live owner’s or a finished one', async () => {
      for (const id of ['own_me', 'own_live', 'own_dead']) await store.registerOwner?.(owner(id))
      const session = makeSession()
      await store.insertSession(session)
      const insert = async (ownerId: string | undefined, overrides: Partial<Run> = {}): Promise<Run> => {
        const run = makeRun(session, overrides)
        await store.commit(ownerId === undefined ? { insertRun: run } : { insertRun: run, ownerId })
        return run
      }
      const unowned = await insert(undefined)
      const orphan = await insert('own_gone', { status: 'waiting_for_input' })
      const dead = await insert('own_dead', { status: 'running' })
      const live = await insert('own_live', { status: 'running' })
      await insert('own_dead', { status: 'completed' })
      const mine = await insert('own_me')
      expect(await store.getRunOwner?.(unowned.id)).toBeNull()
      expect(await store.getRunOwner?.(live.id)).toBe('own_live')

      const claimed = await store.claimRuns?.('own_me', ['own_dead'])
      expect(claimed).toEqual([unowned.id, orphan.id, dead.id])
      for (const run of [unowned, orphan, dead, mine]) expect(await store.getRunOwner?.(run.id)).toBe('own_me')
      expect(await store.getRunOwner?.(live.id)).toBe('own_live')
      expect((await store.listOwners?.())?.map((entry) => entry.id).sort()).toEqual(['own_live', 'own_me'])
      expect(await store.claimRuns?.('own_me', [])).toEqual([])
    })

    it('refuses writes to a run from an owner that no longer owns it', async () => {
      await store.registerOwner?.(owner('own_old'))
      await store.registerOwner?.(owner('own_new'))
      const session = makeSession()
      await store.insertSession(session)
      const run = makeRun(session)
      await store.commit({ insertRun: run, ownerId: 'own_old' })
      await store.commit({ events: [makeDelta(run, 1)], ownerId: 'own_old' })
      expect(await store.claimRuns?.('own_new', ['own_old'])).toEqual([run.id])
      await expect(store.commit({ events: [makeDelta(run, 2)], run: { id: run.id, patch: { status: 'running' } }, ownerId: 'own_old' })).rejects.toMatchObject({
        code: 'storage.conflict',
      })
      expect(await store.getRun(run.id)).toMatchObject({ status: 'queued', lastSeq: 1 })
      await store.commit({ events: [makeDelta(run, 2)], ownerId: 'own_new' })
      expect((await store.getRun(run.id))?.lastSeq).toBe(2)
    })

    it('never lets two claimers take the same run', async () => {
      await store.registerOwner?.(owner('own_a'))
      await store.registerOwner?.(owner('own_b'))
      const session = makeSession()
      await store.insertSession(session)
      const ids: string[] = []
      for (let index = 0; index < 10; index++) {
        const run = makeRun(session)
        ids.push(run.id)
        await store.commit({ insertRun: run })
      }
      const [a, b] = await Promise.all([store.claimRuns?.('own_a', []), store.claimRuns?.('own_b', [])])
      expect([...(a ?? []), ...(b ?? [])].sort()).toEqual(ids)
      expect((a ?? []).filter((id) => (b ?? []).includes(id))).toEqual([])
    })

    it('prunes finished runs that ended before a time, in batches, with their events, and keeps the rest whole', async () => {
      const session = makeSession()
      const neighbour = makeSession()
      await store.insertSession(session)
      await store.insertSession(neighbour)
      const old: Run[] = []
      for (let index = 0; index < 5; index++) {
        const run = makeRun(index === 4 ? neighbour : session, { status: index % 2 === 0 ? 'completed' : 'cancelled', completedAt: iso(index), cancelledAt: iso(index) })
        old.push(run)
        await store.commit({ insertRun: run })
        await store.commit({ events: [makeDelta(run, 1)] })
      }
      // Kept: a run that ended after the time, a running one and a waiting one, each with events, in the same sessions.
      const recent = makeRun(session, { status: 'failed', failedAt: iso(10_000) })
      const active = makeRun(session, { status: 'running' })
      const waiting = makeRun(neighbour, { status: 'waiting_for_input' })
      const kept = [recent, active, waiting]
      for (const run of kept) {
        await store.commit({ insertRun: run })
        await store.commit({ events: [makeDelta(run, 1), makeDelta(run, 2)] })
      }
      expect(await store.pruneRuns?.(iso(5_000), 3)).toBe(3)
      expect(await store.pruneRuns?.(iso(5_000), 3)).toBe(2)
      expect(await store.pruneRuns?.(iso(5_000), 3)).toBe(0)
      for (const run of old) {
        expect(await store.getRun(run.id)).toBeUndefined()
        expect(await store.readEvents(run.id, 0, 10)).toEqual([])
      }
      for (const run of kept) {
        expect(await store.getRun(run.id)).toMatchObject({ id: run.id, status: run.status, lastSeq: 2 })
        expect((await store.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2])
      }
      expect((await store.listRuns({ sessionId: session.id, limit: 10 })).map((run) => run.id).sort()).toEqual([recent.id, active.id].sort())
      expect((await store.listRuns({ sessionId: neighbour.id, limit: 10 })).map((run) => run.id)).toEqual([waiting.id])
      expect(await store.getSession(session.id)).toBeDefined()
      expect(await store.getSession(neighbour.id)).toBeDefined()
      // A kept run still takes commits where it left off.
      await store.commit({ events: [makeDelta(active, 3)] })
      expect((await store.getRun(active.id))?.lastSeq).toBe(3)
    })

    it('commits many concurrent commits of many runs without losing any', async () => {
      const runs: Run[] = []
      for (let index = 0; index < 20; index++) runs.push((await sessionWithRun()).run)
      await Promise.all(
        runs.flatMap((run) => [
          store.commit({ events: [makeDelta(run, 1), makeDelta(run, 2)] }),
          store.commit({ events: [makeDelta(run, 3)] }),
        ]),
      )
      for (const run of runs) {
        expect((await store.readEvents(run.id, 0, 10)).map((event) => event.seq)).toEqual([1, 2, 3])
        expect((await store.getRun(run.id))?.lastSeq).toBe(3)
      }
    })

    messageContractCases(() => ({ store, fixture }))
    recordContractCases(() => ({ store, fixture }))
    sharingContractCases(() => ({ store, fixture }))
    memoryContractCases(() => ({ store, fixture }))
  })
}
