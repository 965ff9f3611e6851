import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStore } from '../../adapters/sqlite/index.js'
import type { Commit, Run, Session } from '../../src/store.js'
import { makeDelta, makeMessage, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
let store: SqliteStore
let session: Session
let run: Run
beforeEach(async () => {
  temp = await tempDirectory()
  store = sqliteStore({ path: temp.file('bad.db') })
  await store.open()
  session = makeSession()
  await store.insertSession(session)
  run = makeRun(session)
  await store.commit({ insertRun: run, ownerId: 'own_a' })
  await store.commit({ events: [makeDelta(run, 1)], ownerId: 'own_a' })
})
afterEach(async () => {
  await store.close()
  await temp.cleanup()
})

/** The file as a reader sees it: the run's row, its events and the session's state. */
async function snapshot(): Promise<unknown> {
  return { run: await store.getRun(run.id), events: await store.readEvents(run.id, 0, 100), session: await store.getSession(session.id) }
}

describe('the SQLite store refuses a bad commit with a code and a message that says why, and writes none of it', () => {
  const cases: [string, () => Commit, string, () => string | RegExp][] = [
    ['a new run whose lastSeq is not 0', () => ({ insertRun: makeRun(session, { id: 'run_x', lastSeq: 3 }) }), 'storage.failed', () => 'A new run must have lastSeq 0, run run_x has 3'],
    ['a run that exists already', () => ({ insertRun: { ...run, lastSeq: 0 } }), 'storage.failed', () => `Run ${run.id} already exists`],
    ['a run of a session that does not exist', () => ({ insertRun: makeRun(makeSession({ id: 'thr_gone' }), { id: 'run_y' }) }), 'storage.failed', () => 'Session thr_gone of run run_y does not exist'],
    ['events of two runs', () => ({ events: [makeDelta(run, 2), { ...makeDelta(run, 3), runId: 'run_other' }] }), 'storage.failed', () => `All events of a commit must belong to one run (${run.id}), got one of run_other`],
    ['events with a gap', () => ({ events: [makeDelta(run, 2), makeDelta(run, 4)] }), 'storage.conflict', () => `Event seq 4 of run ${run.id} does not follow seq 2`],
    ['a second event that repeats the first seq', () => ({ events: [makeDelta(run, 2), makeDelta(run, 2)] }), 'storage.conflict', () => `Event seq 2 of run ${run.id} does not follow seq 2`],
    ['a seq that is taken', () => ({ events: [makeDelta(run, 1)] }), 'storage.conflict', () => `Event seq 1 of run ${run.id} is not the next one (2)`],
    ['events of a run that does not exist', () => ({ events: [{ ...makeDelta(run, 1), runId: 'run_none' }] }), 'storage.failed', () => 'Run run_none does not exist'],
    ['an event naming another session', () => ({ events: [{ ...makeDelta(run, 2), sessionId: 'thr_else' }] }), 'storage.failed', () => `Event seq 2 of run ${run.id} names session thr_else, but the run belongs to ${session.id}`],
    ['events from an owner that does not own the run', () => ({ events: [makeDelta(run, 2)], ownerId: 'own_b' }), 'storage.conflict', () => `Run ${run.id} has owner own_a, not own_b: another process claimed it, so own_b can no longer write to it`],
    ['a patch alone from an owner that does not own the run', () => ({ run: { id: run.id, patch: { status: 'running' } }, ownerId: 'own_b' }), 'storage.conflict', () => /^Run \S+ has owner own_a, not own_b/],
    ['a patch alone from an owner, of a run that does not exist', () => ({ run: { id: 'run_none', patch: { status: 'running' } }, ownerId: 'own_a' }), 'storage.failed', () => 'Run run_none does not exist'],
    ['a patch of a run that does not exist', () => ({ run: { id: 'run_none', patch: { status: 'running' } } }), 'storage.failed', () => 'Run run_none does not exist'],
    ['a patch of details only, of a run that does not exist', () => ({ run: { id: 'run_none', patch: { content: 'x' } } }), 'storage.failed', () => 'Run run_none does not exist'],
    ['an empty patch of a run that does not exist', () => ({ run: { id: 'run_none', patch: {} } }), 'storage.failed', () => 'Run run_none does not exist'],
    ['a context summary of a session that does not exist', () => ({ contextSummary: { sessionId: 'thr_none', summary: { summary: 's', coversThroughRunId: run.id, runId: run.id, createdAt: new Date().toISOString() } } }), 'storage.failed', () => 'Session thr_none does not exist'],
    ['session state of a session that does not exist', () => ({ sessionState: { sessionId: 'thr_none', state: { a: 1 }, updatedAt: new Date().toISOString() } }), 'storage.failed', () => 'Session thr_none does not exist'],
  ]

  for (const [name, commit, code, message] of cases) {
    it(name, async () => {
      const before = await snapshot()
      const error = await store.commit(commit()).then(
        () => undefined,
        (caught: unknown) => caught as Error & { code: string },
      )
      expect(error?.code).toBe(code)
      const expected = message()
      if (typeof expected === 'string') expect(error?.message).toBe(expected)
      else expect(error?.message).toMatch(expected)
      expect(await snapshot()).toEqual(before)
      // The store goes on taking good commits.
      await store.commit({ events: [makeDelta(run, 2)], ownerId: 'own_a' })
      expect((await store.getRun(run.id))?.lastSeq).toBe(2)
    })
  }

  it('says "no owner" for a run that has none', async () => {
    const unowned = makeRun(session)
    await store.commit({ insertRun: unowned })
    await expect(store.commit({ events: [makeDelta(unowned, 1)], ownerId: 'own_b' })).rejects.toThrow(
      `Run ${unowned.id} has no owner, not own_b: another process claimed it, so own_b can no longer write to it`,
    )
  })

  it('an owner that owns the run may patch it alone, and an empty patch of an existing run writes nothing', async () => {
    await store.commit({ run: { id: run.id, patch: { status: 'running' } }, ownerId: 'own_a' })
    await store.commit({ run: { id: run.id, patch: {} } })
    expect(await store.getRun(run.id)).toMatchObject({ status: 'running', lastSeq: 1 })
  })

  it('writes a commit of many events whole, in seq order, across its multi-row inserts', async () => {
    for (const count of [7, 8, 9, 16, 17, 40]) {
      const many = makeRun(session)
      await store.commit({ insertRun: many, events: Array.from({ length: count }, (_, index) => makeDelta(many, index + 1)) })
      const stored = await store.readEvents(many.id, 0, 100)
      expect(stored).toEqual(Array.from({ length: count }, (_, index) => makeDelta(many, index + 1)))
      expect((await store.getRun(many.id))?.lastSeq).toBe(count)
    }
  })

  it('a commit with an empty events list and a patch only patches', async () => {
    await store.commit({ run: { id: run.id, patch: { content: 'kept' } }, events: [] })
    expect(await store.getRun(run.id)).toMatchObject({ content: 'kept', lastSeq: 1 })
  })

  it('a commit with an owner and no run (session state alone) has nothing to fence, and writes', async () => {
    await store.commit({ sessionState: { sessionId: session.id, state: { a: 1 }, updatedAt: new Date().toISOString() }, ownerId: 'own_b' })
    expect((await store.getSession(session.id))?.state).toEqual({ a: 1 })
  })

  it('inserts a run with an empty events list', async () => {
    const empty = makeRun(session)
    await store.commit({ insertRun: empty, events: [] })
    expect(await store.getRun(empty.id)).toMatchObject({ id: empty.id, lastSeq: 0 })
  })

  it('keeps SQLite’s error as the cause of a duplicate run or a missing session, and passes other insert failures on unrenamed', async () => {
    const duplicate = await store.commit({ insertRun: { ...run, lastSeq: 0 } }).catch((error: unknown) => error as Error)
    expect(duplicate).toMatchObject({ code: 'storage.failed', cause: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } })
    const orphan = await store.commit({ insertRun: makeRun(makeSession()) }).catch((error: unknown) => error as Error)
    expect(orphan).toMatchObject({ code: 'storage.failed', cause: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } })
    const broken = (await store.commit({ insertRun: makeRun(session, { routeId: null as never }) }).then(() => undefined, (error: unknown) => error)) as Error
    expect(broken).toBeInstanceOf(Error)
    expect(broken.message).not.toMatch(/does not exist|already exists/)
  })

  it('says which message it refuses and why: named twice, of another session or none, or taken by another run', async () => {
    const elsewhere = makeSession()
    await store.insertSession(elsewhere)
    const foreign = makeMessage(elsewhere)
    const own = makeMessage(session)
    await store.insertMessage(foreign)
    await store.insertMessage(own)
    const answer = (messageIds: string[]) => store.commit({ events: [makeDelta(run, 2)], answerMessages: { runId: run.id, messageIds } })
    await expect(answer([own.id, own.id])).rejects.toThrow('A message is named twice in `answerMessages`')
    await expect(answer([foreign.id])).rejects.toThrow(`Message ${foreign.id} is not a message of session ${session.id}`)
    await expect(answer(['msg_missing'])).rejects.toThrow(`Message msg_missing is not a message of session ${session.id}`)
    await expect(store.commit({ answerMessages: { runId: 'run_none', messageIds: [own.id] } })).rejects.toThrow('Run run_none does not exist')
    const rival = makeRun(session)
    await store.commit({ insertRun: rival, answerMessages: { runId: rival.id, messageIds: [own.id] } })
    await expect(answer([own.id])).rejects.toMatchObject({ code: 'storage.conflict', message: `Message ${own.id} was already taken by run ${rival.id}` })
    expect((await store.getRun(run.id))?.lastSeq).toBe(1)
  })
})
