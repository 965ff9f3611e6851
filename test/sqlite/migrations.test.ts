import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { schemaVersion, sqliteStore } from '../../adapters/sqlite/index.js'
import { migrate, migrations, readSchemaVersion, type Migration } from '../../adapters/sqlite/migrations.js'
import { runDetailColumns, runDetailValues, runsColumns, runsValues, sessionColumns, sessionValues } from '../../adapters/sql/records.js'
import type { Run, Session } from '../../src/store.js'
import { makeChildRun, makeMessage, makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { tempDirectory, type TempDirectory } from './temp-dir.js'

let temp: TempDirectory
beforeEach(async () => {
  temp = await tempDirectory()
})
afterEach(async () => {
  await temp.cleanup()
})

const metaValue = (path: string, key: string): string | undefined => {
  const database = new Database(path, { readonly: true })
  try {
    return (database.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? undefined
  } finally {
    database.close()
  }
}

/**
 * Writes a session and its runs straight into a file of an older version, as that version's store
 * wrote them: only the columns that version's tables have (a later version's columns are left out).
 */
function writeAsOldStore(database: Database.Database, session: Session, runs: readonly Run[]): void {
  const has = (table: string): Set<string> => new Set(database.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[])
  const sessionsHas = has('sessions')
  const sessionsKept = sessionColumns.map((column, index) => [column, index] as const).filter(([column]) => sessionsHas.has(column))
  const values = sessionValues(session)
  database
    .prepare(`INSERT INTO sessions (${sessionsKept.map(([column]) => column).join(', ')}) VALUES (${sessionsKept.map(() => '?').join(', ')})`)
    .run(...sessionsKept.map(([, index]) => values[index]))
  const runsHas = has('runs')
  const detailsHas = has('run_details')
  const runsKept = runsColumns.map((column, index) => [column, index] as const).filter(([column]) => runsHas.has(column))
  const detailsKept = ['run_id', ...runDetailColumns].map((column, index) => [column, index] as const).filter(([column]) => detailsHas.has(column))
  const insertRun = database.prepare(`INSERT INTO runs (${runsKept.map(([column]) => column).join(', ')}) VALUES (${runsKept.map(() => '?').join(', ')})`)
  const insertDetails = database.prepare(`INSERT INTO run_details (${detailsKept.map(([column]) => column).join(', ')}) VALUES (${detailsKept.map(() => '?').join(', ')})`)
  for (const run of runs) {
    const runValues = runsValues(run)
    const detailValues = runDetailValues(run)
    insertRun.run(...runsKept.map(([, index]) => runValues[index]))
    insertDetails.run(...detailsKept.map(([, index]) => detailValues[index]))
  }
}

describe('migrations', () => {
  it('gives a fresh file the current schema version and a store id that survives a reopen', async () => {
    const path = temp.file('fresh.db')
    const store = sqliteStore({ path })
    await store.open()
    const id = store.id
    await store.close()
    expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
    expect(id).toMatch(/^db_/)
    expect(metaValue(path, 'store_id')).toBe(id)

    const again = sqliteStore({ path })
    await again.open()
    expect(again.id).toBe(id)
    await again.close()
  })

  it('uses the `id` option over the id kept in the file', async () => {
    const path = temp.file('named.db')
    const store = sqliteStore({ path, id: 'primary' })
    expect(store.id).toBe('primary')
    await store.open()
    expect(store.id).toBe('primary')
    await store.close()
  })

  it('refuses a file with a newer schema, naming both versions, and stays closed', async () => {
    const path = temp.file('newer.db')
    const first = sqliteStore({ path })
    await first.open()
    await first.close()
    const database = new Database(path)
    database.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(schemaVersion + 41))
    database.close()

    const store = sqliteStore({ path })
    const error = await store.open().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toMatchObject({ code: 'storage.newer_schema' })
    expect((error as Error).message).toContain(`schema version ${schemaVersion + 41}`)
    expect((error as Error).message).toContain(`version ${schemaVersion}`)
    await expect(store.getSession('thr_x')).rejects.toMatchObject({ code: 'storage.failed' })
    expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion + 41))
  })

  it('does not re-run applied migrations when a file is reopened', () => {
    const runs: number[] = []
    const list: Migration[] = [
      { version: 1, description: 'one', up: (database) => (database.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)'), runs.push(1)) },
      { version: 2, description: 'two', up: (database) => (database.exec('CREATE TABLE two (a)'), runs.push(2)) },
    ]
    const path = temp.file('counted.db')
    let database = new Database(path)
    expect(migrate(database, list)).toEqual([1, 2])
    database.close()
    database = new Database(path)
    expect(migrate(database, list)).toEqual([])
    expect(migrate(database, [...list, { version: 3, description: 'three', up: () => runs.push(3) }])).toEqual([3])
    expect(runs).toEqual([1, 2, 3])
    expect(readSchemaVersion(database)).toBe(3)
    database.close()
  })

  it('rolls back a failing migration alone, keeping the versions before it', () => {
    const list: Migration[] = [
      { version: 1, description: 'one', up: (database) => database.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)') },
      {
        version: 2,
        description: 'broken',
        up: (database) => {
          database.exec('CREATE TABLE half (a)')
          throw new Error('broken migration')
        },
      },
    ]
    const database = new Database(temp.file('broken.db'))
    expect(() => migrate(database, list)).toThrow('broken migration')
    expect(readSchemaVersion(database)).toBe(1)
    expect(database.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined()
    expect(database.inTransaction).toBe(false)
    database.close()
  })

  it('reopens a store file without touching its schema', async () => {
    const path = temp.file('reopen.db')
    const store = sqliteStore({ path })
    await store.open()
    await store.close()
    const before = new Database(path, { readonly: true })
    const schema = before.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all()
    before.close()
    const again = sqliteStore({ path })
    await again.open()
    await again.close()
    const after = new Database(path, { readonly: true })
    expect(after.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all()).toEqual(schema)
    after.close()
  })

  it('brings a version 1 file to version 2: owners, and ended_at filled in for finished runs', async () => {
    const path = temp.file('version-1.db')
    const database = new Database(path)
    database.pragma('journal_mode = WAL')
    migrate(database, migrations.slice(0, 1))
    const session = makeSession()
    const at = (minute: number): string => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString()
    const runs = [
      makeRun(session, { status: 'completed', completedAt: at(1) }),
      makeRun(session, { status: 'failed', failedAt: at(2) }),
      makeRun(session, { status: 'cancelled', cancelledAt: at(3), startedAt: at(0) }),
      makeRun(session, { status: 'running', startedAt: at(4) }),
    ]
    writeAsOldStore(database, session, runs)
    database.close()

    const store = sqliteStore({ path })
    await store.open()
    const check = new Database(path, { readonly: true })
    try {
      expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
      const endedAt = check.prepare('SELECT ended_at FROM runs WHERE id = ?').pluck()
      expect(runs.map((run) => endedAt.get(run.id))).toEqual([at(1), at(2), at(3), null])
      expect(check.prepare('SELECT owner_id FROM runs').pluck().all()).toEqual([null, null, null, null])
      // A file made before auto_vacuum keeps its setting: changing it takes a VACUUM, which the store never runs by itself.
      expect(check.pragma('auto_vacuum', { simple: true })).toBe(0)
      expect(await store.claimRuns('own_new', [])).toEqual([runs[3]?.id])
      expect(await store.pruneRuns(at(3), 10)).toBe(2)
      expect(await store.getRun(runs[2]?.id as string)).toBeDefined()
    } finally {
      check.close()
      await store.close()
    }
  })

  it('brings a version 2 file to version 3: the same events, no foreign key, and deleting a run still deletes its events', async () => {
    const path = temp.file('version-2.db')
    const database = new Database(path)
    database.pragma('journal_mode = WAL')
    database.pragma('foreign_keys = ON')
    migrate(database, migrations.slice(0, 2))
    const sessions = [makeSession(), makeSession()]
    const insertEvent = database.prepare("INSERT INTO events (run_id, seq, type, data, created_at) VALUES (?, ?, 'message.delta', ?, '2026-01-01T00:00:00.000Z')")
    const runs = sessions.map((session) => makeRun(session, { status: 'completed', completedAt: '2026-01-01T00:01:00.000Z', lastSeq: 3 }))
    sessions.forEach((session, index) => {
      const run = runs[index] as (typeof runs)[number]
      writeAsOldStore(database, session, [run])
      for (let seq = 1; seq <= 3; seq++) insertEvent.run(run.id, seq, JSON.stringify({ content: `${index}.${seq}`, channel: 'text' }))
    })
    // Version 2 keeps the end time in runs.ended_at: the first run ended before the second.
    const setEnded = database.prepare('UPDATE runs SET ended_at = ? WHERE id = ?')
    setEnded.run('2026-01-01T00:01:00.000Z', runs[0]!.id)
    setEnded.run('2026-01-01T00:03:00.000Z', runs[1]!.id)
    const before = database.prepare('SELECT id, run_id, seq, data FROM events ORDER BY id').all()
    database.close()

    const store = sqliteStore({ path })
    await store.open()
    const check = new Database(path, { readonly: true })
    try {
      expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
      expect(check.prepare('SELECT id, run_id, seq, data FROM events ORDER BY id').all()).toEqual(before)
      expect(check.pragma('foreign_key_list(events)')).toEqual([])
      expect(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'events'").pluck().get()).not.toContain('AUTOINCREMENT')
      // (run_id, seq) is still unique.
      await expect(store.commit({ events: [{ runId: runs[0]!.id, sessionId: sessions[0]!.id, seq: 3, type: 'message.delta', data: { content: 'again', channel: 'text' }, createdAt: '2026-01-01T00:02:00.000Z' }] })).rejects.toMatchObject({ code: 'storage.conflict' })
      // The rows themselves go, not only what readEvents (which joins runs) shows: by prune, and by deleting a session.
      const count = check.prepare('SELECT count(*) FROM events WHERE run_id = ?').pluck()
      expect(await store.pruneRuns('2026-01-01T00:02:00.000Z', 1)).toBe(1)
      const [pruned, kept] = runs as [(typeof runs)[number], (typeof runs)[number]]
      expect([count.get(pruned.id), count.get(kept.id)]).toEqual([0, 3])
      expect(await store.deleteSession(kept.sessionId)).toBe(true)
      expect(count.get(kept.id)).toBe(0)
    } finally {
      check.close()
      await store.close()
    }
  })

  it('brings a version 3 file to version 4: its runs read back with no messages and no output, and its threads take messages', async () => {
    const path = temp.file('version-3.db')
    const database = new Database(path)
    database.pragma('journal_mode = WAL')
    database.pragma('foreign_keys = ON')
    migrate(database, migrations.slice(0, 3))
    const session = makeSession()
    const done = makeRun(session, { status: 'completed', completedAt: '2026-01-01T00:01:00.000Z', content: '{"answer":"42"}', lastSeq: 1 })
    const queued = makeRun(session)
    writeAsOldStore(database, session, [done, queued])
    database
      .prepare("INSERT INTO events (run_id, seq, type, data, created_at) VALUES (?, 1, 'message.delta', ?, '2026-01-01T00:00:00.000Z')")
      .run(done.id, JSON.stringify({ content: 'x', channel: 'text' }))
    database.close()

    const store = sqliteStore({ path })
    await store.open()
    const check = new Database(path, { readonly: true })
    try {
      expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
      // Read back whole: the new fields are null, everything else as version 3 wrote it.
      expect(await store.getRun(done.id)).toEqual({ ...done, messageIds: null, output: null })
      expect(await store.getRun(queued.id)).toEqual({ ...queued, messageIds: null, output: null })
      expect((await store.readEvents(done.id, 0, 10)).map((event) => event.seq)).toEqual([1])
      const message = makeMessage(session)
      await store.insertMessage(message)
      await store.commit({ run: { id: queued.id, patch: { status: 'running', messageIds: [message.id] } }, answerMessages: { runId: queued.id, messageIds: [message.id] } })
      expect(await store.listMessages({ sessionId: session.id, limit: 10 })).toEqual([{ ...message, runId: queued.id }])
      expect(await store.getRun(queued.id)).toMatchObject({ status: 'running', messageIds: [message.id] })
      expect(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages_unanswered'").pluck().get()).toMatch(/WHERE run_id IS NULL$/)
      // A thread's messages go with it (the foreign key cascades).
      expect(await store.deleteSession(session.id)).toBe(true)
      expect(check.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(0)
    } finally {
      check.close()
      await store.close()
    }
  })

  it('brings a version 4 file to version 5: the sessions of running and waiting runs are held by them, and runs may start in order', async () => {
    const path = temp.file('v4.db')
    const database = new Database(path)
    database.pragma('journal_mode = WAL')
    database.pragma('foreign_keys = ON')
    migrate(database, migrations.slice(0, 4))
    const busy = makeSession()
    const waiting = makeSession()
    const idle = makeSession()
    const running = makeRun(busy, { status: 'running' })
    const behind = makeRun(busy)
    const paused = makeRun(waiting, { status: 'waiting_for_input' })
    const done = makeRun(idle, { status: 'completed', completedAt: '2026-01-01T00:01:00.000Z' })
    const next = makeRun(idle)
    writeAsOldStore(database, busy, [running, behind])
    writeAsOldStore(database, waiting, [paused])
    writeAsOldStore(database, idle, [done, next])
    database.close()

    const store = sqliteStore({ path })
    await store.open()
    try {
      expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
      expect((await store.getSession(busy.id))?.activeRunId).toBe(running.id)
      expect((await store.getSession(waiting.id))?.activeRunId).toBe(paused.id)
      expect((await store.getSession(idle.id))?.activeRunId).toBeNull()
      await expect(store.commit({ run: { id: behind.id, patch: { status: 'running' } } })).rejects.toMatchObject({ details: { reason: 'session_busy', run_id: running.id } })
      await store.commit({ run: { id: next.id, patch: { status: 'running' } } })
      expect((await store.getSession(idle.id))?.activeRunId).toBe(next.id)
      expect(await store.insertControl({ id: 'ctl_1', runId: behind.id, action: { kind: 'cancel', reason: 'x' }, status: 'pending', error: null, createdAt: '2026-01-01T00:00:00.000Z', settledAt: null })).toBe(true)
    } finally {
      await store.close()
    }
  })

  it('brings a version 5 file to version 6: its runs read back with no limits, and new runs keep theirs', async () => {
    const path = temp.file('v5.db')
    const database = new Database(path)
    database.pragma('journal_mode = WAL')
    database.pragma('foreign_keys = ON')
    migrate(database, migrations.slice(0, 5))
    const session = makeSession()
    const old = makeRun(session)
    writeAsOldStore(database, session, [old])
    database.close()
    const store = sqliteStore({ path })
    await store.open()
    try {
      expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
      expect(await store.getRun(old.id)).toEqual({ ...old, limits: null })
      const limited = makeRun(session, { limits: { maxTotalTokens: 100 } })
      await store.commit({ insertRun: limited })
      expect((await store.getRun(limited.id))?.limits).toEqual({ maxTotalTokens: 100 })
    } finally {
      await store.close()
    }
  })

  it('brings a version 7 file to version 8: its runs are top-level (their own root, depth 0), and children of one tool call stay one', async () => {
    const path = temp.file('v7.db')
    const database = new Database(path)
    database.pragma('journal_mode = WAL')
    database.pragma('foreign_keys = ON')
    migrate(database, migrations.slice(0, 7))
    const session = makeSession()
    const old = makeRun(session)
    writeAsOldStore(database, session, [old])
    database.close()
    const store = sqliteStore({ path })
    await store.open()
    try {
      expect(metaValue(path, 'schema_version')).toBe(String(schemaVersion))
      expect(await store.getRun(old.id)).toEqual({ ...old, parentRunId: null, rootRunId: old.id, depth: 0, parentToolCallId: null })
      const child = makeChildRun(old, 'call_1')
      await store.commit({ insertRun: child })
      await expect(store.commit({ insertRun: makeChildRun(old, 'call_1') })).rejects.toMatchObject({ details: { reason: 'child_exists', child_run_id: child.id } })
    } finally {
      await store.close()
    }
  })

  it('makes new files with auto_vacuum = INCREMENTAL, and leaves an app database with tables as it is', async () => {
    const path = temp.file('new.db')
    const store = sqliteStore({ path })
    await store.open()
    await store.close()
    const fresh = new Database(path, { readonly: true })
    expect(fresh.pragma('auto_vacuum', { simple: true })).toBe(2)
    fresh.close()

    const app = new Database(temp.file('app.db'))
    app.exec('CREATE TABLE app_things (name TEXT)')
    const adopted = sqliteStore({ database: app })
    await adopted.open()
    expect(app.pragma('auto_vacuum', { simple: true })).toBe(0)
    await adopted.close()
    app.close()
  })
})
