import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, type RunEvent } from '../../src/index.js'
import { reply, scriptedModel } from '../../src/testing/index.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

/**
 * A trap in the file that makes COMMIT itself fail, as a full disk or an I/O
 * error would: while armed, every inserted event also inserts a row whose
 * deferred foreign key points nowhere. SQLite checks deferred keys at COMMIT,
 * so every statement of the transaction succeeds and the COMMIT is refused.
 */
function setTrap(database: Database.Database): { arm(): void; disarm(): void } {
  database.exec(`
    CREATE TABLE trap_switch (armed INTEGER NOT NULL);
    INSERT INTO trap_switch VALUES (0);
    CREATE TABLE trap_parent (id INTEGER PRIMARY KEY);
    CREATE TABLE trap (parent INTEGER REFERENCES trap_parent (id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TRIGGER trap_events AFTER INSERT ON events WHEN (SELECT armed FROM trap_switch) = 1
    BEGIN INSERT INTO trap (parent) VALUES (42); END;
  `)
  return {
    arm: () => database.exec('UPDATE trap_switch SET armed = 1'),
    disarm: () => database.exec('UPDATE trap_switch SET armed = 0'),
  }
}

let temp: TempDirectory
let database: Database.Database
beforeEach(async () => {
  temp = await tempDirectory()
  database = new Database(temp.file('commit.db'))
})
afterEach(async () => {
  database.close()
  await temp.cleanup()
})

describe('a COMMIT that fails', () => {
  it('rejects every commit of its group, and none of them is in the file', async () => {
    const store = sqliteStore({ database })
    await store.open()
    const trap = setTrap(database)
    const session = makeSession()
    await store.insertSession(session)
    const [first, second] = [makeRun(session), makeRun(session)]
    await store.commit({ insertRun: first })
    await store.commit({ insertRun: second })
    trap.arm()
    const results = await Promise.allSettled([
      store.commit({ events: [makeDelta(first, 1)] }),
      store.commit({ events: [makeDelta(second, 1), makeDelta(second, 2)] }),
    ])
    expect(results).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ code: 'storage.failed' }) },
      { status: 'rejected', reason: expect.objectContaining({ code: 'storage.failed' }) },
    ])
    expect(database.inTransaction).toBe(false)
    expect(await store.readEvents(first.id, 0, 10)).toEqual([])
    expect(await store.readEvents(second.id, 0, 10)).toEqual([])
    expect((await store.getRun(second.id))?.lastSeq).toBe(0)
    // The store goes on: the same commits land once the cause is gone.
    trap.disarm()
    await store.commit({ events: [makeDelta(first, 1)] })
    expect((await store.readEvents(first.id, 0, 10)).map((event) => event.seq)).toEqual([1])
    await store.close()
  })

  it('shows a reader no event that is not in the file, and the run ends whole once the file takes commits again', async () => {
    const store = sqliteStore({ database })
    const errors: unknown[] = []
    const runtime = await Runtime.open({
      store,
      leaseMs: 150,
      logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) },
      model: scriptedModel([reply('one two three four five six seven eight', { delayMs: 15 })]),
    })
    const trap = setTrap(database)
    const run = await runtime.createRun({ input: 'count' })
    const seen: RunEvent[] = []
    let armed = false
    for await (const event of run.events()) {
      seen.push(event)
      if (!armed && event.seq === 3) {
        trap.arm()
        armed = true
        // Commits fail while armed: the run's log breaks, and the process lets the run go.
        setTimeout(() => trap.disarm(), 200)
      }
    }
    const done = await runtime.waitForRun(run.id)
    expect(done.status).toBe('completed')
    const stored = await runtime.readEvents(run.id)
    // Every event a reader saw is the one the file holds at its seq, and the file's seqs are dense.
    for (const event of seen) expect(stored[event.seq - 1]).toMatchObject({ seq: event.seq, type: event.type, data: event.data })
    expect(stored.map((event) => event.seq)).toEqual(stored.map((_, index) => index + 1))
    // The failed commit was seen by nobody: the reader's seqs are dense too, and it saw the end.
    expect(seen.map((event) => event.seq)).toEqual(seen.map((_, index) => index + 1))
    expect(seen.at(-1)?.type).toBe('run.completed')
    // The retried turn is the one that counts.
    expect(stored.some((event) => event.type === 'run.resumed')).toBe(true)
    expect(done.content).toBe('one two three four five six seven eight')
    expect(errors).toContainEqual([`hearth: run ${run.id} stopped on an error`, expect.objectContaining({ code: 'storage.failed' })])
    await runtime.close()
  })
})
