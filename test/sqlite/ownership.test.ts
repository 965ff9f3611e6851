import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStore } from '../../adapters/sqlite/index.js'
import type { Owner, Run, Session } from '../../src/store.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
let path: string
let store: SqliteStore

beforeEach(async () => {
  temp = await tempDirectory()
  path = temp.file('owners.db')
  store = sqliteStore({ path })
  await store.open()
})
afterEach(async () => {
  await store.close()
  await temp.cleanup()
})

const owner = (id: string): Owner => ({ id, pid: 4242, host: 'host-a', startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString() })

async function ownedRun(ownerId: string): Promise<{ session: Session; run: Run }> {
  const session = makeSession()
  await store.insertSession(session)
  const run = makeRun(session)
  await store.commit({ insertRun: run, ownerId })
  return { session, run }
}

const column = (runId: string, name: 'owner_id' | 'ended_at'): unknown => {
  const database = new Database(path, { readonly: true })
  try {
    return database.prepare(`SELECT ${name} FROM runs WHERE id = ?`).pluck().get(runId)
  } finally {
    database.close()
  }
}

describe('ownership on SQLite', () => {
  it('fences a commit without events too, and writes none of it', async () => {
    await store.registerOwner(owner('own_old'))
    await store.registerOwner(owner('own_new'))
    const { session, run } = await ownedRun('own_old')
    expect(await store.claimRuns('own_new', ['own_old'])).toEqual([run.id])
    const stale = store.commit({
      run: { id: run.id, patch: { status: 'cancelled', cancelledAt: new Date().toISOString() } },
      sessionState: { sessionId: session.id, state: { stale: true }, updatedAt: new Date().toISOString() },
      ownerId: 'own_old',
    })
    await expect(stale).rejects.toMatchObject({ code: 'storage.conflict', message: expect.stringContaining('own_new') })
    expect(await store.getRun(run.id)).toMatchObject({ status: 'queued', cancelledAt: null })
    expect((await store.getSession(session.id))?.state).toEqual({})
    await store.commit({ run: { id: run.id, patch: { status: 'running' } }, ownerId: 'own_new' })
    expect((await store.getRun(run.id))?.status).toBe('running')
  })

  it('rejects a fenced-out commit alone: its neighbours in the same transaction land', async () => {
    const mine = await ownedRun('own_me')
    const theirs = await ownedRun('own_them')
    const unowned = await ownedRun('own_me')
    const before = store.statistics
    const results = await Promise.allSettled([
      store.commit({ events: [makeDelta(mine.run, 1)], ownerId: 'own_me' }),
      store.commit({ events: [makeDelta(theirs.run, 1)], run: { id: theirs.run.id, patch: { status: 'running' } }, ownerId: 'own_me' }),
      store.commit({ events: [makeDelta(unowned.run, 1)] }),
    ])
    expect(store.statistics.retries - before.retries).toBe(1)
    expect(store.statistics.transactions - before.transactions).toBe(2)
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'storage.conflict' })
    expect(await store.getRun(theirs.run.id)).toMatchObject({ status: 'queued', lastSeq: 0 })
    expect((await store.getRun(mine.run.id))?.lastSeq).toBe(1)
  })

  it('tells a seq conflict from a lost run when the owner is right', async () => {
    const { run } = await ownedRun('own_me')
    await store.commit({ events: [makeDelta(run, 1)], ownerId: 'own_me' })
    await expect(store.commit({ events: [makeDelta(run, 1)], ownerId: 'own_me' })).rejects.toMatchObject({
      code: 'storage.conflict',
      message: expect.stringContaining('is not the next one (2)'),
    })
    await expect(store.commit({ events: [{ ...makeDelta(run, 1), runId: 'run_missing' }], ownerId: 'own_me' })).rejects.toMatchObject({ code: 'storage.failed' })
  })

  it('keeps ended_at: set by the patch that ends a run, by the time of its status', async () => {
    const { run } = await ownedRun('own_me')
    await store.commit({ run: { id: run.id, patch: { status: 'running', startedAt: '2026-01-01T00:00:00.000Z' } } })
    expect(column(run.id, 'ended_at')).toBeNull()
    await store.commit({ run: { id: run.id, patch: { status: 'failed', failedAt: '2026-01-01T00:00:05.000Z' } } })
    expect(column(run.id, 'ended_at')).toBe('2026-01-01T00:00:05.000Z')
    expect(column(run.id, 'owner_id')).toBe('own_me')
  })

  it('answers a claim with nothing to take without waiting for the write lock', async () => {
    const impatient = sqliteStore({ path, busyTimeoutMs: 20 })
    await impatient.open()
    const { run } = await ownedRun('own_live')
    await store.registerOwner(owner('own_live'))
    const locker = new Database(path)
    try {
      locker.exec('BEGIN IMMEDIATE')
      expect(await impatient.claimRuns('own_other', [])).toEqual([])
      await expect(impatient.heartbeat('own_live', new Date().toISOString())).rejects.toMatchObject({ code: 'storage.busy' })
      locker.exec('ROLLBACK')
      expect(await impatient.getRunOwner(run.id)).toBe('own_live')
    } finally {
      locker.close()
      await impatient.close()
    }
  })

  it('shares owners between stores on one file, and never gives a run to two of them', async () => {
    const other = sqliteStore({ path })
    await other.open()
    try {
      await store.registerOwner(owner('own_a'))
      await other.registerOwner(owner('own_b'))
      expect((await other.listOwners()).map((entry) => entry.id)).toEqual(['own_a', 'own_b'])
      await other.removeOwner('own_a')
      expect(await store.heartbeat('own_a', new Date().toISOString())).toBe(false)

      const session = makeSession()
      await store.insertSession(session)
      const ids: string[] = []
      for (let index = 0; index < 12; index++) {
        const run = makeRun(session)
        ids.push(run.id)
        await store.commit({ insertRun: run })
      }
      await store.registerOwner(owner('own_a'))
      const [a, b] = await Promise.all([store.claimRuns('own_a', []), other.claimRuns('own_b', [])])
      expect([...a, ...b].sort()).toEqual(ids)
      expect(a.filter((id) => b.includes(id))).toEqual([])
      // Once own_a's row is gone, its runs are orphans that the next claim takes.
      await other.removeOwner('own_a')
      expect(await other.claimRuns('own_b', [])).toEqual(a)
    } finally {
      await other.close()
    }
  })
})
