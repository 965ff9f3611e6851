import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { GroupCommit, type GroupCommitStatistics } from '../../adapters/sqlite/group-commit.js'
import { Statements } from '../../adapters/sqlite/statements.js'
import type { Commit, Run, Session } from '../../src/store.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

/**
 * The group commit's rare paths, where SQLite refuses a statement of the
 * transaction's own bookkeeping (BEGIN of the retry, ROLLBACK TO a savepoint,
 * ROLLBACK): the real file and the real statements, with one of them made to
 * fail the way SQLite fails (a busy lock, an I/O error) on a chosen call.
 */
let temp: TempDirectory
let database: Database.Database
let statements: Statements
let statistics: GroupCommitStatistics
let group: GroupCommit
let session: Session
let run: Run

beforeEach(async () => {
  temp = await tempDirectory()
  database = new Database(temp.file('faults.db'))
  const store = sqliteStore({ database })
  await store.open()
  session = makeSession()
  await store.insertSession(session)
  run = makeRun(session)
  await store.commit({ insertRun: run })
  await store.close()
  statements = new Statements(database)
  statistics = { transactions: 0, commits: 0, rejected: 0, retries: 0 }
  group = new GroupCommit(statements, 'Cannot commit to faults.db', statistics)
})
afterEach(async () => {
  database.close()
  await temp.cleanup()
})

/**
 * Makes the calls numbered in `failing` (from 1) of `name`'s `run` throw a SQLite error with `code`;
 * with `rollsBack`, SQLite has rolled the whole transaction back first, as it does on a full disk.
 */
function failOnCall(name: 'begin' | 'rollback' | 'rollbackToSavepoint' | 'insertEvent', failing: number | readonly number[], code: string, rollsBack = false): void {
  const statement = statements[name]
  const numbers = typeof failing === 'number' ? [failing] : failing
  let calls = 0
  const wrapped = Object.create(statement) as typeof statement
  wrapped.run = (...parameters: unknown[]) => {
    calls++
    if (numbers.includes(calls)) {
      if (rollsBack && database.inTransaction) database.exec('ROLLBACK')
      throw new Database.SqliteError(`planted failure of ${name}`, code)
    }
    return statement.run(...parameters)
  }
  Object.defineProperty(statements, name, { value: wrapped })
}

/** A batch of a good commit and one whose seq leaves a gap, so the optimistic pass fails and the batch is retried. */
function mixedBatch(): Promise<PromiseSettledResult<void>[]> {
  const good: Commit = { events: [makeDelta(run, 1)] }
  const bad: Commit = { events: [makeDelta(run, 5)] }
  const settled = Promise.allSettled([group.enqueue(good), group.enqueue(bad)])
  group.flush()
  return settled
}

const storedSeqs = (): number[] => (database.prepare('SELECT seq FROM events WHERE run_id = ? ORDER BY seq').pluck().all(run.id) as number[])

describe('the group commit when SQLite refuses its own bookkeeping', () => {
  it('lands the good commit and rejects the bad one of a retried batch when nothing else fails', async () => {
    const [good, bad] = await mixedBatch()
    expect(good).toEqual({ status: 'fulfilled', value: undefined })
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'storage.conflict' } })
    expect(statistics).toEqual({ transactions: 2, commits: 2, rejected: 1, retries: 1 })
    expect(storedSeqs()).toEqual([1])
  })

  it('rejects every commit of a batch whose BEGIN fails with that error, and writes none of it outside a transaction', async () => {
    failOnCall('begin', 1, 'SQLITE_IOERR')
    const settled = Promise.allSettled([group.enqueue({ events: [makeDelta(run, 1)] }), group.enqueue({ events: [makeDelta(run, 2)] })])
    group.flush()
    for (const result of await settled) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'storage.failed', message: expect.stringContaining('planted failure of begin (SQLITE_IOERR)') } })
    }
    expect(storedSeqs()).toEqual([])
    expect(statistics).toMatchObject({ transactions: 0, rejected: 2 })
  })

  it('rejects every commit of the batch with storage.busy when the retry cannot begin, and writes none', async () => {
    failOnCall('begin', 2, 'SQLITE_BUSY')
    const results = await mixedBatch()
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'storage.busy', message: expect.stringMatching(/^Cannot commit to faults\.db: planted failure of begin \(SQLITE_BUSY\)/) } })
    }
    expect(database.inTransaction).toBe(false)
    expect(storedSeqs()).toEqual([])
    expect(statistics).toMatchObject({ transactions: 1, rejected: 2, retries: 1 })
  })

  it('rejects every commit and leaves no transaction open when a savepoint cannot be rolled back', async () => {
    failOnCall('rollbackToSavepoint', 1, 'SQLITE_IOERR')
    const results = await mixedBatch()
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'storage.failed', message: expect.stringContaining('planted failure of rollbackToSavepoint (SQLITE_IOERR)') } })
    }
    expect(database.inTransaction).toBe(false)
    expect(storedSeqs()).toEqual([])
  })

  it('rejects every commit with the rollback’s own error when the failed optimistic pass cannot be rolled back', async () => {
    failOnCall('rollback', 1, 'SQLITE_IOERR')
    const results = await mixedBatch()
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'storage.failed', message: expect.stringContaining('planted failure of rollback (SQLITE_IOERR)') } })
    }
    expect(statistics.retries).toBe(0)
    // The transaction the failed rollback left open is SQLite's to end; this test ends it to check the file.
    if (database.inTransaction) database.exec('ROLLBACK')
    expect(storedSeqs()).toEqual([])
  })

  it('retries a batch whose optimistic pass SQLite rolled back whole (a full disk), and lands it', async () => {
    failOnCall('insertEvent', 1, 'SQLITE_FULL', true)
    const settled = Promise.allSettled([group.enqueue({ events: [makeDelta(run, 1)] }), group.enqueue({ events: [makeDelta(run, 2)] })])
    group.flush()
    expect((await settled).map((result) => result.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(storedSeqs()).toEqual([1, 2])
    expect(statistics).toMatchObject({ retries: 1, rejected: 0 })
  })

  it('rejects the whole batch with SQLite’s error when a commit of the retry made SQLite roll everything back', async () => {
    failOnCall('insertEvent', [1, 2], 'SQLITE_FULL', true)
    const settled = Promise.allSettled([group.enqueue({ events: [makeDelta(run, 1)] }), group.enqueue({ events: [makeDelta(run, 2)] })])
    group.flush()
    for (const result of await settled) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'storage.failed', message: expect.stringContaining('planted failure of insertEvent (SQLITE_FULL)') } })
    }
    expect(database.inTransaction).toBe(false)
    expect(storedSeqs()).toEqual([])
  })

  it('counts no transaction for a flush with nothing queued', async () => {
    await Promise.all([group.enqueue({ events: [makeDelta(run, 1)] }), group.enqueue({ events: [makeDelta(run, 2)] })])
    expect(statistics).toEqual({ transactions: 1, commits: 2, rejected: 0, retries: 0 })
    group.flush()
    expect(group.pending).toBe(false)
    expect(statistics.transactions).toBe(1)
  })
})
