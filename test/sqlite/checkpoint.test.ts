import { existsSync, statSync, unlinkSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStore } from '../../adapters/sqlite/index.js'
import { checkpointIntervalMs } from '../../adapters/sqlite/checkpointer.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
beforeEach(async () => {
  temp = await tempDirectory()
})
afterEach(async () => {
  await temp.cleanup()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Commits `runs` runs of 20 events each, spread over more than one checkpoint interval. */
async function write(store: SqliteStore, runs: number): Promise<void> {
  const session = makeSession()
  await store.insertSession(session)
  for (let index = 0; index < runs; index++) {
    const run = makeRun(session)
    await store.commit({ insertRun: run, events: Array.from({ length: 20 }, (_, seq) => makeDelta(run, seq + 1)) })
    if (index === 0) await sleep(checkpointIntervalMs + 20)
  }
}

/** Waits (at most 5 s) until `check` holds. */
async function eventually(check: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 100 && !check(); attempt++) await sleep(50)
  return check()
}

describe('checkpoints', () => {
  it("in the background, copies the WAL into the database file long before SQLite's own 1000 pages", async () => {
    const path = temp.file('background.db')
    const store = sqliteStore({ path })
    await store.open()
    const empty = statSync(path).size
    await write(store, 40)
    expect(await eventually(() => statSync(path).size > empty)).toBe(true)
    await store.close()
    // The worker's connection closed first, so the store's close checkpointed and removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false)
  })

  it('checkpoints the last commits of a burst once the store goes quiet', async () => {
    const path = temp.file('burst.db')
    const store = sqliteStore({ path })
    await store.open()
    const empty = statSync(path).size
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session)
    await store.commit({ insertRun: run, events: Array.from({ length: 20 }, (_, seq) => makeDelta(run, seq + 1)) })
    // Nothing more is committed: the checkpoint due at the end of the interval still comes.
    expect(await eventually(() => statSync(path).size > empty)).toBe(true)
    await store.close()
  })

  it("inline, leaves a small WAL to SQLite's automatic checkpoint", async () => {
    const path = temp.file('inline.db')
    const store = sqliteStore({ path, checkpoint: 'inline' })
    await store.open()
    const empty = statSync(path).size
    await write(store, 40)
    await sleep(100)
    expect(statSync(path).size).toBe(empty)
    await store.close()
  })

  it("puts an adopted connection's wal_autocheckpoint back when the store closes", async () => {
    const database = new Database(temp.file('adopted.db'))
    database.pragma('wal_autocheckpoint = 500')
    const store = sqliteStore({ database })
    await store.open()
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000)
    await store.close()
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(500)
    database.close()
  })

  it('falls back to checkpointing inline when the worker cannot open the file', async () => {
    const path = temp.file('gone.db')
    const database = new Database(path)
    const store = sqliteStore({ database })
    await store.open()
    // The connection keeps the unlinked file open; the worker, opening it by name, cannot.
    unlinkSync(path)
    await write(store, 2)
    expect(await eventually(() => database.pragma('wal_autocheckpoint', { simple: true }) === 1000)).toBe(true)
    expect((await store.listRuns({ limit: 10 })).length).toBe(2)
    await store.close()
    database.close()
  })
})
