/**
 * open() is asynchronous (it may import better-sqlite3 first), so calls can
 * overlap it: opens made meanwhile share its one connection, and a close
 * made meanwhile closes what it opened. Connections are counted as the file
 * descriptors this process holds on the database file (Linux's /proc).
 */
import { readdirSync, readlinkSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
beforeEach(async () => {
  temp = await tempDirectory()
})
afterEach(async () => {
  await temp.cleanup()
})

function descriptorsOn(path: string): number {
  let count = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++
    } catch {
      // Closed between the listing and the read.
    }
  }
  return count
}

describe.skipIf(process.platform !== 'linux')('opening a SQLite store', () => {
  it('shares one connection among open() calls made while it opens', async () => {
    const path = temp.file('agents.db')
    const store = sqliteStore({ path, checkpoint: 'inline' })
    await Promise.all([store.open(), store.open(), store.open()])
    expect(descriptorsOn(path)).toBe(1)
    await store.close()
    expect(descriptorsOn(path)).toBe(0)
  })

  it('closes what an open under way makes when close() is called meanwhile', async () => {
    const path = temp.file('agents.db')
    const store = sqliteStore({ path, checkpoint: 'inline' })
    const opening = store.open()
    const closing = store.close()
    await opening
    await closing
    expect(descriptorsOn(path)).toBe(0)
    await expect(store.getSession('thr_x')).rejects.toMatchObject({ code: 'storage.failed' })
    await store.open()
    expect(await store.listSessions({ orgId: 'org', limit: 10 })).toEqual([])
    await store.close()
  })
})
