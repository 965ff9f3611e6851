import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { schemaVersion, sqliteStore } from '../../adapters/sqlite/index.js'
import { migrate, readSchemaVersion, type Migration } from '../../adapters/sqlite/migrations.js'
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
})
