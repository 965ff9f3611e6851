import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStoreOptions } from '../../adapters/sqlite/index.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
beforeEach(async () => {
  temp = await tempDirectory()
})
afterEach(async () => {
  await temp.cleanup()
})

describe('options', () => {
  it.each([
    [42, 'Expected `options` to be an object with `path` or `database`, got `42`'],
    [{}, 'Expected `path` or `database` to be given, got neither'],
    [{ path: 42 }, 'Expected `path` to be a non-empty string, got `42`'],
    [{ path: ' ' }, "Expected `path` to be a non-empty string, got `' '`"],
    [{ path: 'a.db', database: new Database(':memory:') }, 'Expected only one of `path` and `database`, got both'],
    [{ database: 'a.db' }, "Expected `database` to be a better-sqlite3 Database, got `'a.db'`"],
    [{ path: 'a.db', synchronous: 'off' }, "Expected `synchronous` to be 'normal' or 'full', got `'off'`"],
    [{ path: 'a.db', busyTimeoutMs: -1 }, 'Expected `busyTimeoutMs` to be an integer from 0 to 2147483647, got `-1`'],
    [{ path: 'a.db', busyTimeoutMs: 1.5 }, 'Expected `busyTimeoutMs` to be an integer from 0 to 2147483647, got `1.5`'],
    [{ path: 'a.db', id: '' }, "Expected `id` to be a non-empty string, got `''`"],
    [{ path: 'a.db', watchIntervalMs: 0 }, 'Expected `watchIntervalMs` to be an integer from 1 to 2147483647, got `0`'],
    [{ path: 'a.db', watchIntervalMs: '100' }, "Expected `watchIntervalMs` to be an integer from 1 to 2147483647, got `'100'`"],
    [{ path: 'a.db', checkpoint: 'sometimes' }, "Expected `checkpoint` to be 'background' or 'inline', got `'sometimes'`"],
  ])('rejects %o with a precise TypeError', (options, message) => {
    expect(() => sqliteStore(options as SqliteStoreOptions)).toThrow(new TypeError(message))
  })

  it('does no I/O in the constructor', () => {
    const path = temp.file('never.db')
    sqliteStore({ path })
    expect(() => new Database(path, { fileMustExist: true })).toThrow()
  })

  it("sets WAL, the synchronous level, the busy timeout, foreign keys and in-memory temporary files", async () => {
    const database = new Database(temp.file('pragmas.db'))
    const store = sqliteStore({ database, synchronous: 'full', busyTimeoutMs: 1234 })
    await store.open()
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(database.pragma('synchronous', { simple: true })).toBe(2)
    expect(database.pragma('busy_timeout', { simple: true })).toBe(1234)
    expect(database.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(database.pragma('temp_store', { simple: true })).toBe(2)
    await store.close()
    database.close()
  })

  it("works on ':memory:'", async () => {
    const store = sqliteStore({ path: ':memory:' })
    await store.open()
    const session = makeSession()
    await store.insertSession(session)
    expect(await store.getSession(session.id)).toEqual(session)
    await store.close()
  })
})

describe('an existing database', () => {
  it('uses the connection the app passes and leaves it open on close', async () => {
    const database = new Database(temp.file('app.db'))
    database.exec('CREATE TABLE app_things (name TEXT)')
    const store = sqliteStore({ database })
    await store.open()
    const session = makeSession()
    await store.insertSession(session)
    const run = makeRun(session)
    await store.commit({ insertRun: run, events: [makeDelta(run, 1)] })
    await store.close()

    expect(database.open).toBe(true)
    expect(database.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1)
    expect(database.prepare("SELECT name FROM sqlite_master WHERE name = 'app_things'").get()).toBeDefined()
    // The app's own user_version stays its own.
    expect(database.pragma('user_version', { simple: true })).toBe(0)

    const again = sqliteStore({ database })
    await again.open()
    expect((await again.getRun(run.id))?.lastSeq).toBe(1)
    await again.close()
    database.close()
  })

  it('refuses a closed connection with a storage error', async () => {
    const database = new Database(':memory:')
    database.close()
    await expect(sqliteStore({ database }).open()).rejects.toMatchObject({ code: 'storage.failed', message: expect.stringContaining('closed') })
  })
})
