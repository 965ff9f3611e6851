/**
 * User memories in the SQLite store: the `memories` table, every statement
 * naming the org and the user. A commit's `memoryWrites` are written here
 * inside its transaction.
 */
import { StorageError } from '../../src/errors.js'
import { checkStoredMemory, type MemoryOwner, type MemoryPage, type MemoryPatch, type MemoryQuery, type MemoryWrites, type UserMemory } from '../../src/user-memories.js'
import { memoryColumns, memoryFromRow, memoryOrderBy, memoryValues, type MemoryRow } from '../sql/memory-rows.js'
import type { SqliteDatabase, SqliteStatement } from './database-types.js'
import { sqliteCodeOf } from './storage-errors.js'

/** The memory statements of one connection. */
export class MemoryStatements {
  readonly #database: SqliteDatabase
  readonly #insert: SqliteStatement
  readonly #upsert: SqliteStatement
  readonly #get: SqliteStatement
  readonly #update: SqliteStatement
  readonly #delete: SqliteStatement
  readonly #topics: SqliteStatement
  readonly #lists = new Map<string, { page: SqliteStatement; count: SqliteStatement }>()

  constructor(database: SqliteDatabase) {
    this.#database = database
    const columns = memoryColumns.join(', ')
    const slots = memoryColumns.map(() => '?').join(', ')
    this.#insert = database.prepare(`INSERT INTO memories (${columns}) VALUES (${slots})`)
    // Replaces only a memory of the same owner: another owner's row under the id changes nothing (and is refused).
    this.#upsert = database.prepare(
      `INSERT INTO memories (${columns}) VALUES (${slots}) ON CONFLICT (id) DO UPDATE SET agent_key = excluded.agent_key, memory = excluded.memory, ` +
        'topics = excluded.topics, created_at = excluded.created_at, updated_at = excluded.updated_at WHERE org_id = excluded.org_id AND user_id = excluded.user_id',
    )
    this.#get = database.prepare('SELECT * FROM memories WHERE id = ? AND org_id = ? AND user_id = ?')
    this.#update = database.prepare(
      'UPDATE memories SET memory = coalesce(?, memory), topics = coalesce(?, topics), updated_at = ? WHERE id = ? AND org_id = ? AND user_id = ? RETURNING *',
    )
    this.#delete = database.prepare('DELETE FROM memories WHERE id = ? AND org_id = ? AND user_id = ?')
    this.#topics = database.prepare('SELECT DISTINCT t.value FROM memories m, json_each(m.topics) t WHERE m.org_id = ? AND m.user_id = ? ORDER BY t.value').pluck()
  }

  insert(memory: UserMemory): void {
    checkStoredMemory(memory, memory)
    try {
      this.#insert.run(...memoryValues(memory))
    } catch (error) {
      if (sqliteCodeOf(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StorageError('storage.failed', `Memory ${memory.id} already exists`, { cause: error })
      throw error
    }
  }

  get(owner: MemoryOwner, id: string): UserMemory | undefined {
    const row = this.#get.get(id, owner.orgId, owner.userId) as MemoryRow | undefined
    return row === undefined ? undefined : memoryFromRow(row)
  }

  list(query: MemoryQuery): MemoryPage {
    const parameters: unknown[] = [query.orgId, query.userId]
    let where = 'org_id = ? AND user_id = ?'
    if (query.agentKey !== undefined) {
      where += ' AND agent_key = ?'
      parameters.push(query.agentKey)
    }
    for (const topic of query.topics ?? []) {
      where += ' AND EXISTS (SELECT 1 FROM json_each(topics) WHERE value = ?)'
      parameters.push(topic)
    }
    if (query.search !== undefined) {
      where += ' AND instr(lower(memory), lower(?)) > 0'
      parameters.push(query.search)
    }
    const order = memoryOrderBy(query.sortBy, query.order)
    const key = `${where} ORDER BY ${order}`
    let statements = this.#lists.get(key)
    if (statements === undefined) {
      statements = {
        // The count rides on the page (the window counts before LIMIT); a page past the end counts apart.
        page: this.#database.prepare(`SELECT *, count(*) OVER () AS total FROM memories WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`),
        count: this.#database.prepare(`SELECT count(*) FROM memories WHERE ${where}`).pluck(),
      }
      this.#lists.set(key, statements)
    }
    const offset = query.offset ?? 0
    const rows = statements.page.all(...parameters, query.limit, offset) as (MemoryRow & { total: number })[]
    const total = rows.length > 0 ? (rows[0] as { total: number }).total : offset === 0 ? 0 : (statements.count.get(...parameters) as number)
    return { memories: rows.map(memoryFromRow), total }
  }

  update(owner: MemoryOwner, id: string, patch: MemoryPatch): UserMemory | undefined {
    const topics = patch.topics === undefined ? null : JSON.stringify(patch.topics)
    const row = this.#update.get(patch.memory ?? null, topics, patch.updatedAt, id, owner.orgId, owner.userId) as MemoryRow | undefined
    return row === undefined ? undefined : memoryFromRow(row)
  }

  delete(owner: MemoryOwner, ids: readonly string[]): number {
    let count = 0
    for (const id of new Set(ids)) count += this.#delete.run(id, owner.orgId, owner.userId).changes
    return count
  }

  topics(owner: MemoryOwner): string[] {
    return this.#topics.all(owner.orgId, owner.userId) as string[]
  }

  /** Inside a commit's transaction: writes and deletes one user's memories; throws when a memory to write is another owner's. */
  write(writes: MemoryWrites): void {
    for (const memory of writes.put) {
      checkStoredMemory(memory, writes)
      if (this.#upsert.run(...memoryValues(memory)).changes === 0) throw new StorageError('storage.failed', `Memory ${memory.id} belongs to another user`)
    }
    this.delete(writes, writes.delete)
  }
}
