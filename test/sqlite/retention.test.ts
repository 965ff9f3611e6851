import { statSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime } from '../../src/index.js'
import type { RunEvent } from '../../src/events.js'
import type { Session } from '../../src/store.js'
import { keeperOptions, pruneAroundAWaitingRun } from '../helpers.js'
import { makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
let path: string
let store: SqliteStore

beforeEach(async () => {
  temp = await tempDirectory()
  path = temp.file('retention.db')
  // Inline checkpoints: the file sizes below then depend only on the writes, not on when a worker ran.
  store = sqliteStore({ path, checkpoint: 'inline' })
  await store.open()
})
afterEach(async () => {
  await store.close()
  await temp.cleanup()
})

const minute = (index: number): string => new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString()
const text = 'a token of streamed text, long enough to fill pages '.repeat(3)

/** `count` finished runs of `events` events each, ended at `endedAt`. */
async function finishedRuns(session: Session, count: number, events: number, endedAt: string): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      const run = makeRun(session)
      const log: RunEvent[] = Array.from({ length: events }, (_, index) => ({
        runId: run.id,
        sessionId: session.id,
        seq: index + 1,
        type: 'message.delta',
        data: { content: text, channel: 'text' },
        createdAt: endedAt,
      }))
      await store.commit({ insertRun: run, events: log })
      await store.commit({ run: { id: run.id, patch: { status: 'completed', content: text, completedAt: endedAt } } })
    }),
  )
}

async function pruneAll(finishedBefore: string, batch: number): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await store.pruneRuns(finishedBefore, batch)
    total += deleted
    if (deleted < batch) return total
  }
}

const pageCount = (): number => {
  const reader = new Database(path, { readonly: true })
  try {
    return reader.pragma('page_count', { simple: true }) as number
  } finally {
    reader.close()
  }
}

describe('retention on SQLite', () => {
  it('keeps the file from growing under rounds of inserts and prunes', async () => {
    const session = makeSession()
    await store.insertSession(session)
    const sizes: number[] = []
    const files: number[] = []
    for (let round = 0; round < 24; round++) {
      await finishedRuns(session, 40, 20, minute(round))
      // Keep the last two rounds: a retention window.
      if (round >= 2) expect(await pruneAll(minute(round - 1), 25)).toBe(40)
      sizes.push(pageCount())
      files.push(statSync(path).size + statSync(`${path}-wal`).size)
    }
    // Without reuse each round would add ~70 pages; with it the count wobbles by a page or two as B-trees split.
    const settled = Math.max(...sizes.slice(2, 8))
    expect(Math.max(...sizes.slice(8))).toBeLessThanOrEqual(settled * 1.02)
    // The files on disk level off too, give or take a few pages of WAL, by where the last checkpoint fell.
    expect(Math.max(...files.slice(12))).toBeLessThanOrEqual(Math.max(...files.slice(2, 12)) * 1.05)
    expect((await store.listRuns({ limit: 100 })).length).toBe(80)
  })

  it('gives the space of a large cleanup back to the OS', async () => {
    const session = makeSession()
    await store.insertSession(session)
    for (let round = 0; round < 6; round++) await finishedRuns(session, 50, 20, minute(round))
    await finishedRuns(session, 5, 20, minute(60))
    const before = pageCount()
    expect(await pruneAll(minute(30), 50)).toBe(300)
    const after = pageCount()
    expect(after).toBeLessThan(before * 0.5)
    expect((await store.listRuns({ limit: 100 })).length).toBe(5)
  })

  it('prunes through the runtime, keeping unfinished runs and sessions', async () => {
    const runtime = await Runtime.open({ store, ...keeperOptions() })
    await pruneAroundAWaitingRun(runtime, store)
    await runtime.close()
    store = sqliteStore({ path })
    await store.open()
  })
})
