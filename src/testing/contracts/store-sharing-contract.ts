/**
 * The Store contract's cases for sharing one store between runtimes: the
 * session claim (one active run per session, in order, enforced by the
 * store) and control requests (a cancel or an input any runtime records and
 * the run's owner applies exactly once). Registered by `runStoreContract`,
 * inside its describe block, so every store runs them.
 */
import { expect, it } from 'vitest'
import type { Commit, ControlRequest, Run, RunPatch, Session, Store } from '../../store.js'
import { iso, makeChildRun, makeDelta, makeRun, makeSession, type StoreFixture } from './store-fixtures.js'

let counter = 0
/** A pending cancel request for `run`. */
function makeControl(run: Run, overrides: Partial<ControlRequest> = {}): ControlRequest {
  counter++
  return {
    id: `ctl_${String(Date.now()).padStart(14, '0')}${String(counter).padStart(6, '0')}`,
    runId: run.id,
    action: { kind: 'cancel', reason: 'Stop' },
    status: 'pending',
    error: null,
    createdAt: iso(counter),
    settledAt: null,
    ...overrides,
  }
}

/** Registers the sharing cases; `current` gives the open store (and its fixture) of the running case. */
export function sharingContractCases(current: () => { store: Store; fixture: StoreFixture }): void {
  async function sessionWithRuns(count: number): Promise<{ store: Store; session: Session; runs: Run[] }> {
    const { store } = current()
    const session = makeSession()
    await store.insertSession(session)
    const runs: Run[] = []
    for (let index = 0; index < count; index++) {
      const run = makeRun(session)
      await store.commit({ insertRun: run })
      runs.push(run)
    }
    return { store, session, runs }
  }

  /** Commits a status change of `run` with one event, as the runtime does. */
  function move(store: Store, run: Run, patch: RunPatch): Promise<void> {
    return store.commit({ run: { id: run.id, patch }, events: [makeDelta(run, run.lastSeq + 1)] }).then(() => {
      run.lastSeq++
    })
  }

  const holder = async (store: Store, session: Session): Promise<string | null | undefined> => (await store.getSession(session.id))?.activeRunId

  it('offers the session claim and control requests', () => {
    const { store } = current()
    for (const method of ['claimSession', 'insertControl', 'getControl', 'pendingControls', 'markControl'] as const) {
      expect(typeof store[method], method).toBe('function')
    }
  })

  it('gives a new session no active run, claims it when a run starts, keeps it while the run waits and frees it when the run ends', async () => {
    const { store, session, runs } = await sessionWithRuns(1)
    const run = runs[0] as Run
    expect(await holder(store, session)).toBeNull()
    await move(store, run, { status: 'running' })
    expect(await holder(store, session)).toBe(run.id)
    await move(store, run, { status: 'waiting_for_input' })
    expect(await holder(store, session)).toBe(run.id)
    await move(store, run, { status: 'running' })
    expect(await holder(store, session)).toBe(run.id)
    await move(store, run, { status: 'completed', completedAt: iso(9) })
    expect(await holder(store, session)).toBeNull()
  })

  it('refuses to start a second run of a busy session with storage.conflict (session_busy), writing nothing of that commit', async () => {
    const { store, session, runs } = await sessionWithRuns(2)
    const [first, second] = runs as [Run, Run]
    await move(store, first, { status: 'waiting_for_input' })
    const refused = store.commit({ run: { id: second.id, patch: { status: 'running', startedAt: iso(3) } }, events: [makeDelta(second, 1)] })
    await expect(refused).rejects.toMatchObject({ code: 'storage.conflict', details: { reason: 'session_busy', session_id: session.id, run_id: first.id } })
    expect(await store.getRun(second.id)).toMatchObject({ status: 'queued', startedAt: null, lastSeq: 0 })
    expect(await store.readEvents(second.id, 0, 10)).toEqual([])
    expect(await holder(store, session)).toBe(first.id)
    // Another session is not affected, and once the first run ends the second may start.
    const other = await sessionWithRuns(1)
    await move(other.store, other.runs[0] as Run, { status: 'running' })
    await move(store, first, { status: 'cancelled', cancelledAt: iso(4) })
    await move(store, second, { status: 'running' })
    expect(await holder(store, session)).toBe(second.id)
  })

  it('starts the runs of a session in order: not while an older run of the session is queued', async () => {
    const { store, session, runs } = await sessionWithRuns(3)
    const [oldest, middle, newest] = runs as [Run, Run, Run]
    await expect(move(store, newest, { status: 'running' })).rejects.toMatchObject({ code: 'storage.conflict', details: { reason: 'session_busy', run_id: oldest.id } })
    await move(store, oldest, { status: 'running' })
    await move(store, oldest, { status: 'completed', completedAt: iso(5) })
    await expect(move(store, newest, { status: 'running' })).rejects.toMatchObject({ details: { run_id: middle.id } })
    // A queued run that ends without starting no longer holds the queue up.
    await move(store, middle, { status: 'cancelled', cancelledAt: iso(6) })
    await move(store, newest, { status: 'running' })
    expect(await holder(store, session)).toBe(newest.id)
  })

  it('claims in the commit that inserts and starts a run, and inserts nothing when the session is busy', async () => {
    const { store, session, runs } = await sessionWithRuns(1)
    const first = runs[0] as Run
    await move(store, first, { status: 'running' })
    const late = makeRun(session)
    const commit = { insertRun: late, run: { id: late.id, patch: { status: 'running' as const } }, events: [makeDelta(late, 1)] }
    await expect(store.commit(commit)).rejects.toMatchObject({ code: 'storage.conflict', details: { reason: 'session_busy' } })
    expect(await store.getRun(late.id)).toBeUndefined()
    await move(store, first, { status: 'failed', failedAt: iso(2) })
    await store.commit(commit)
    expect(await holder(store, session)).toBe(late.id)
  })

  it('checks the claim of a run that starts and ends in one commit (its start sets startedAt), and leaves the session free', async () => {
    // The runtime merges the patches it has not flushed yet: a quick run's start and end reach the store as one.
    const { store, session, runs } = await sessionWithRuns(1)
    const first = runs[0] as Run
    await move(store, first, { status: 'waiting_for_input' })
    const quick = makeRun(session)
    const patch: RunPatch = { status: 'completed', startedAt: iso(3), completedAt: iso(4) }
    const commit = { insertRun: quick, run: { id: quick.id, patch }, events: [makeDelta(quick, 1)] }
    await expect(store.commit(commit)).rejects.toMatchObject({ code: 'storage.conflict', details: { reason: 'session_busy', run_id: first.id } })
    expect(await store.getRun(quick.id)).toBeUndefined()
    await move(store, first, { status: 'completed', completedAt: iso(5) })
    await store.commit(commit)
    expect(await store.getRun(quick.id)).toMatchObject({ status: 'completed', startedAt: iso(3) })
    expect(await holder(store, session)).toBeNull()
  })

  it('ends a queued run that never started (no startedAt) while another run holds the session, which stays held', async () => {
    const { store, session, runs } = await sessionWithRuns(2)
    const [first, queued] = runs as [Run, Run]
    await move(store, first, { status: 'running', startedAt: iso(1) })
    await move(store, queued, { status: 'cancelled', cancelledAt: iso(2) })
    expect(await store.getRun(queued.id)).toMatchObject({ status: 'cancelled', startedAt: null })
    expect(await holder(store, session)).toBe(first.id)
  })

  it('lets child runs start, wait and end under their parent’s hold on the session, and a queued child block no younger run', async () => {
    const { store, session, runs } = await sessionWithRuns(1)
    const parent = runs[0] as Run
    await move(store, parent, { status: 'running', startedAt: iso(1) })
    const child = makeChildRun(parent, 'call_1')
    // Inserted and started in one commit, as the runtime does: the parent holds the session, the child starts anyway.
    await store.commit({ insertRun: child, run: { id: child.id, patch: { status: 'running', startedAt: iso(2) } }, events: [makeDelta(child, 1)] })
    child.lastSeq = 1
    expect(await store.claimSession?.(child.id)).toBe(true)
    await move(store, child, { status: 'waiting_for_input' })
    await move(store, child, { status: 'running' })
    expect(await holder(store, session)).toBe(parent.id)
    await move(store, child, { status: 'completed', completedAt: iso(3) })
    expect(await holder(store, session)).toBe(parent.id)
    // A child left queued (inserted, not started yet) keeps no run created after it from the session once the parent ended.
    const queuedChild = makeChildRun(parent, 'call_2')
    await store.commit({ insertRun: queuedChild })
    const next = makeRun(session)
    await store.commit({ insertRun: next })
    await move(store, parent, { status: 'completed', completedAt: iso(4) })
    expect(await holder(store, session)).toBeNull()
    expect(await store.claimSession?.(next.id)).toBe(true)
    await move(store, next, { status: 'running', startedAt: iso(5) })
    expect(await holder(store, session)).toBe(next.id)
    // ... and a session's history leaves its child runs out.
    expect((await store.listRuns({ sessionId: session.id, topLevel: true, limit: 10 })).map((found) => found.id)).toEqual([next.id, parent.id])
    expect((await store.listRuns({ sessionId: session.id, limit: 10 })).map((found) => found.id)).toEqual([next.id, queuedChild.id, child.id, parent.id])
  })

  it('passes the session from a run that ends to the next run (passSessionTo), only where that run’s own claim would take it', async () => {
    const { store, session, runs } = await sessionWithRuns(3)
    const [first, second, third] = runs as [Run, Run, Run]
    const end = async (run: Run, passSessionTo: string): Promise<boolean | undefined> => {
      const commit: Commit = { run: { id: run.id, patch: { status: 'completed', completedAt: iso(run.lastSeq + 10) } }, events: [makeDelta(run, run.lastSeq + 1)], passSessionTo }
      await store.commit(commit)
      run.lastSeq++
      return commit.sessionPassed
    }
    await move(store, first, { status: 'running', startedAt: iso(1) })
    // Not past an older queued run: freed, as without passSessionTo.
    expect(await end(first, third.id)).toBe(false)
    expect(await holder(store, session)).toBeNull()
    await move(store, second, { status: 'running', startedAt: iso(2) })
    expect(await end(second, third.id)).toBe(true)
    expect(await holder(store, session)).toBe(third.id)
    // Held while queued: its own claim holds, another's fails, and its start keeps it.
    expect(await store.claimSession?.(third.id)).toBe(true)
    const fourth = makeRun(session)
    await store.commit({ insertRun: fourth })
    expect(await store.claimSession?.(fourth.id)).toBe(false)
    await move(store, third, { status: 'running', startedAt: iso(3) })
    expect(await holder(store, session)).toBe(third.id)
    // Never to a run of another session or a child run: freed.
    const other = await sessionWithRuns(1)
    const child = makeChildRun(third, 'call_1')
    await store.commit({ insertRun: child })
    expect(await end(third, (other.runs[0] as Run).id)).toBe(false)
    expect(await holder(store, session)).toBeNull()
    expect(await holder(store, other.session)).toBeNull()
    await move(store, fourth, { status: 'running', startedAt: iso(4) })
    expect(await end(fourth, child.id)).toBe(false)
    expect(await holder(store, session)).toBeNull()
  })

  it('claims a session ahead of a start (claimSession): once, never from another run or past an older queued one', async () => {
    const { store, session, runs } = await sessionWithRuns(3)
    const [oldest, middle, newest] = runs as [Run, Run, Run]
    expect(await store.claimSession?.(middle.id)).toBe(false)
    expect(await store.claimSession?.(oldest.id)).toBe(true)
    expect(await store.claimSession?.(oldest.id)).toBe(true)
    expect(await holder(store, session)).toBe(oldest.id)
    expect(await store.claimSession?.(middle.id)).toBe(false)
    // The claim holds when the run starts, and a run that ends before it starts frees it.
    await move(store, oldest, { status: 'running' })
    await move(store, oldest, { status: 'completed', completedAt: iso(3) })
    expect(await store.claimSession?.(middle.id)).toBe(true)
    await expect(move(store, newest, { status: 'running' })).rejects.toMatchObject({ details: { run_id: middle.id } })
    await move(store, middle, { status: 'cancelled', cancelledAt: iso(4) })
    expect(await holder(store, session)).toBeNull()
    expect(await store.claimSession?.('run_missing')).toBe(false)
    expect(await store.claimSession?.(middle.id)).toBe(false)
    expect(await store.claimSession?.(newest.id)).toBe(true)
  })

  it('records a control request for an unfinished run and lists it, oldest first, for the run’s owner only', async () => {
    const { store } = current()
    const session = makeSession()
    await store.insertSession(session)
    const mine = makeRun(session)
    const theirs = makeRun(session)
    await store.commit({ insertRun: mine, ownerId: 'own_me' })
    await store.commit({ insertRun: theirs, ownerId: 'own_them' })
    const input = makeControl(mine, { action: { kind: 'input', content: 'yes \u{1F525}', approved: true, toolCallId: 'call_1' } })
    const cancel = makeControl(mine)
    const other = makeControl(theirs)
    for (const request of [input, cancel, other]) expect(await store.insertControl?.(request)).toBe(true)
    expect(await store.getControl?.(input.id)).toEqual(input)
    expect(await store.pendingControls?.('own_me')).toEqual([input, cancel])
    expect(await store.pendingControls?.('own_them')).toEqual([other])
    expect(await store.pendingControls?.('own_nobody')).toEqual([])
    expect(await store.getControl?.('ctl_missing')).toBeUndefined()
    // Reads are copies.
    const read = (await store.getControl?.(input.id)) as ControlRequest
    read.status = 'applied'
    expect((await store.getControl?.(input.id))?.status).toBe('pending')
  })

  it('records no request for an ended or unknown run', async () => {
    const { store, runs } = await sessionWithRuns(1)
    const run = runs[0] as Run
    await move(store, run, { status: 'running' })
    await move(store, run, { status: 'completed', completedAt: iso(2) })
    const request = makeControl(run)
    expect(await store.insertControl?.(request)).toBe(false)
    expect(await store.getControl?.(request.id)).toBeUndefined()
    expect(await store.insertControl?.(makeControl({ ...run, id: 'run_missing' }))).toBe(false)
  })

  it('moves a pending request to accepted or withdrawn once', async () => {
    const { store, runs } = await sessionWithRuns(1)
    const run = runs[0] as Run
    const accepted = makeControl(run)
    const withdrawn = makeControl(run)
    await store.insertControl?.(accepted)
    await store.insertControl?.(withdrawn)
    expect(await store.markControl?.(accepted.id, 'accepted', iso(5))).toBe(true)
    expect(await store.markControl?.(accepted.id, 'withdrawn', iso(6))).toBe(false)
    expect(await store.markControl?.(withdrawn.id, 'withdrawn', iso(7))).toBe(true)
    expect(await store.markControl?.(withdrawn.id, 'accepted', iso(8))).toBe(false)
    expect(await store.markControl?.('ctl_missing', 'accepted', iso(8))).toBe(false)
    expect(await store.getControl?.(accepted.id)).toMatchObject({ status: 'accepted', settledAt: null })
    expect(await store.getControl?.(withdrawn.id)).toMatchObject({ status: 'withdrawn', settledAt: iso(7) })
  })

  it('settles an accepted request in the commit that applies it, and writes nothing of a commit that settles one not accepted', async () => {
    const { store } = current()
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session)
    await store.commit({ insertRun: run, ownerId: 'own_me' })
    const applied = makeControl(run)
    const refused = makeControl(run, { action: { kind: 'input', content: 'no' } })
    const pending = makeControl(run)
    for (const request of [applied, refused, pending]) await store.insertControl?.(request)
    await store.markControl?.(applied.id, 'accepted', iso(1))
    await store.markControl?.(refused.id, 'accepted', iso(1))
    // `pending` was never accepted: the commit fails whole.
    const settle = (id: string) => ({ id, status: 'applied' as const, settledAt: iso(2) })
    await expect(store.commit({ events: [makeDelta(run, 1)], settleControls: [settle(applied.id), settle(pending.id)], ownerId: 'own_me' })).rejects.toMatchObject({
      code: 'storage.conflict',
    })
    expect(await store.readEvents(run.id, 0, 10)).toEqual([])
    expect((await store.getControl?.(applied.id))?.status).toBe('accepted')
    await store.commit({ events: [makeDelta(run, 1)], settleControls: [settle(applied.id)], ownerId: 'own_me' })
    await store.commit({ settleControls: [{ id: refused.id, status: 'refused', error: { code: 'state.invalid', message: 'Not waiting' }, settledAt: iso(3) }] })
    expect(await store.getControl?.(applied.id)).toEqual({ ...applied, status: 'applied', settledAt: iso(2) })
    expect(await store.getControl?.(refused.id)).toEqual({ ...refused, status: 'refused', error: { code: 'state.invalid', message: 'Not waiting' }, settledAt: iso(3) })
    expect((await store.pendingControls?.('own_me'))?.map((request) => request.id)).toEqual([pending.id])
    // Settled once: a second settlement conflicts.
    await expect(store.commit({ settleControls: [settle(applied.id)] })).rejects.toMatchObject({ code: 'storage.conflict' })
  })

  it('drops a run’s requests with the run', async () => {
    const { store, session, runs } = await sessionWithRuns(1)
    const run = runs[0] as Run
    const request = makeControl(run)
    await store.insertControl?.(request)
    await store.deleteSession(session.id)
    expect(await store.getControl?.(request.id)).toBeUndefined()
  })
}
