import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChangeWatch } from '../../adapters/sqlite/change-watch.js'
import { sqliteStore, type SqliteStore } from '../../adapters/sqlite/index.js'
import { makeSession } from 'hearth-runtime/testing/contracts'
import { silentLogger } from '../../src/logger.js'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let temp: TempDirectory
let path: string
let mine: SqliteStore
let theirs: SqliteStore

beforeEach(async () => {
  temp = await tempDirectory()
  path = temp.file('watch.db')
  mine = sqliteStore({ path, watchIntervalMs: 10 })
  theirs = sqliteStore({ path, watchIntervalMs: 10 })
  await mine.open()
  await theirs.open()
})
afterEach(async () => {
  await mine.close()
  await theirs.close()
  await temp.cleanup()
})

describe('watch on SQLite', () => {
  it("calls a watcher when another connection commits to the file, never for its own store's commits", async () => {
    let mineCalls = 0
    let theirCalls = 0
    const stopMine = mine.watch(() => mineCalls++)
    const stopTheirs = theirs.watch(() => theirCalls++)
    await mine.insertSession(makeSession())
    await sleep(60)
    expect(theirCalls).toBe(1)
    expect(mineCalls).toBe(0)
    await theirs.insertSession(makeSession())
    await sleep(60)
    expect(mineCalls).toBe(1)
    expect(theirCalls).toBe(1)
    stopMine()
    stopTheirs()
  })

  it('stops calling once unwatched or closed, and watches again after a reopen', async () => {
    let calls = 0
    const stop = theirs.watch(() => calls++)
    await mine.insertSession(makeSession())
    await sleep(60)
    expect(calls).toBe(1)
    await theirs.close()
    await mine.insertSession(makeSession())
    await sleep(60)
    expect(calls).toBe(1)
    await theirs.open()
    await mine.insertSession(makeSession())
    await sleep(60)
    expect(calls).toBe(2)
    stop()
    await mine.insertSession(makeSession())
    await sleep(60)
    expect(calls).toBe(2)
  })

  it('keeps calling the other watchers when one throws, and tells its logger', async () => {
    const errors: unknown[][] = []
    const logged = sqliteStore({ path, watchIntervalMs: 10, logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) } })
    await logged.open()
    try {
      let calls = 0
      const bug = new Error('watcher bug')
      const stopThrowing = logged.watch(() => {
        throw bug
      })
      const stop = logged.watch(() => calls++)
      await mine.insertSession(makeSession())
      await sleep(60)
      expect(calls).toBe(1)
      expect(errors).toEqual([['hearth-runtime/sqlite: a store watcher threw', bug]])
      stopThrowing()
      stop()
    } finally {
      await logged.close()
    }
  })

  it('refuses a listener that is not a function', () => {
    expect(() => theirs.watch('nope' as never)).toThrow(new TypeError('Expected `listener` to be a function, got `string`'))
  })
})

describe('ChangeWatch', () => {
  it('reads once per interval, only while it has a listener and a connection', async () => {
    let reads = 0
    let version = 1
    const watch = new ChangeWatch(20, silentLogger)
    const stopEarly = watch.add(() => {})
    expect(watch.polling).toBe(false)
    watch.attach(() => (reads++, version))
    expect(watch.polling).toBe(true)
    stopEarly()
    expect(watch.polling).toBe(false)

    let calls = 0
    const stop = watch.add(() => calls++)
    const readsBefore = reads
    await sleep(210)
    // About ten reads in 210 ms at 20 ms: a timer, not a busy loop.
    expect(reads - readsBefore).toBeGreaterThanOrEqual(5)
    expect(reads - readsBefore).toBeLessThanOrEqual(13)
    expect(calls).toBe(0)
    version = 2
    await sleep(50)
    expect(calls).toBe(1)
    watch.detach()
    expect(watch.polling).toBe(false)
    const readsDetached = reads
    version = 3
    await sleep(50)
    expect(reads).toBe(readsDetached)
    expect(calls).toBe(1)
    stop()
  })
})
