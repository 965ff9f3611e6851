/**
 * User memories in the PostgreSQL store: the `memories` table, every
 * statement naming the org and the user. A commit's `memoryWrites` are
 * written with `write`, inside its transaction.
 */
import { StorageError } from '../../src/errors.js'
import { checkStoredMemory, type MemoryOwner, type MemoryPage, type MemoryPatch, type MemoryQuery, type MemoryWrites, type UserMemory } from '../../src/user-memories.js'
import { memoryColumns, memoryFromRow, memoryOrderBy, memoryValues, type MemoryRow } from '../sql/memory-rows.js'
import type { PgQueryable } from './pg-types.js'
import { pgCodeOf } from './storage-errors.js'

/** The memory statements of one store's schema. */
export class MemorySql {
  readonly #table: string
  readonly insert: string
  /** Replaces only a memory of the same owner: another owner's row under the id changes nothing. */
  readonly upsert: string
  readonly get: string
  readonly update: string
  readonly delete: string
  readonly topics: string

  constructor(prefix: string) {
    const table = (this.#table = `${prefix}memories`)
    const columns = memoryColumns.join(', ')
    const slots = memoryColumns.map((_, index) => `$${index + 1}`).join(', ')
    this.insert = `INSERT INTO ${table} (${columns}) VALUES (${slots})`
    this.upsert =
      `INSERT INTO ${table} AS m (${columns}) VALUES (${slots}) ON CONFLICT (id) DO UPDATE SET agent_key = excluded.agent_key, memory = excluded.memory, ` +
      'topics = excluded.topics, created_at = excluded.created_at, updated_at = excluded.updated_at WHERE m.org_id = excluded.org_id AND m.user_id = excluded.user_id'
    this.get = `SELECT * FROM ${table} WHERE id = $1 AND org_id = $2 AND user_id = $3`
    this.update = `UPDATE ${table} SET memory = COALESCE($4, memory), topics = COALESCE($5, topics), updated_at = $6 WHERE id = $1 AND org_id = $2 AND user_id = $3 RETURNING *`
    this.delete = `DELETE FROM ${table} WHERE id = ANY($1::text[]) AND org_id = $2 AND user_id = $3`
    this.topics = `SELECT DISTINCT t.value COLLATE "C" AS value FROM ${table} m, jsonb_array_elements_text(m.topics::jsonb) t WHERE m.org_id = $1 AND m.user_id = $2 ORDER BY 1`
  }

  /** The page and count queries of a memory query, with their parameters. */
  list(query: MemoryQuery): { page: string; count: string; parameters: unknown[] } {
    const parameters: unknown[] = [query.orgId, query.userId]
    let where = 'org_id = $1 AND user_id = $2'
    if (query.agentKey !== undefined) {
      parameters.push(query.agentKey)
      where += ` AND agent_key = $${parameters.length}`
    }
    if (query.topics !== undefined && query.topics.length > 0) {
      parameters.push(JSON.stringify(query.topics))
      where += ` AND topics::jsonb @> $${parameters.length}::jsonb`
    }
    if (query.search !== undefined) {
      parameters.push(query.search)
      where += ` AND strpos(lower(memory), lower($${parameters.length})) > 0`
    }
    const limit = parameters.length + 1
    return {
      // The count rides on the page (the window counts before LIMIT); a page past the end counts apart.
      page: `SELECT *, count(*) OVER ()::int AS total FROM ${this.#table} WHERE ${where} ORDER BY ${memoryOrderBy(query.sortBy, query.order)} LIMIT $${limit} OFFSET $${limit + 1}`,
      count: `SELECT count(*)::int AS total FROM ${this.#table} WHERE ${where}`,
      parameters,
    }
  }
}

export async function insertMemory(pool: PgQueryable, sql: MemorySql, memory: UserMemory): Promise<void> {
  checkStoredMemory(memory, memory)
  try {
    await pool.query(sql.insert, memoryValues(memory))
  } catch (error) {
    if (pgCodeOf(error) === '23505') throw new StorageError('storage.failed', `Memory ${memory.id} already exists`, { cause: error })
    throw error
  }
}

export async function getMemory(pool: PgQueryable, sql: MemorySql, owner: MemoryOwner, id: string): Promise<UserMemory | undefined> {
  const row = (await pool.query<MemoryRow>(sql.get, [id, owner.orgId, owner.userId])).rows[0]
  return row === undefined ? undefined : memoryFromRow(row)
}

export async function listMemories(pool: PgQueryable, sql: MemorySql, query: MemoryQuery): Promise<MemoryPage> {
  const { page, count, parameters } = sql.list(query)
  const offset = query.offset ?? 0
  const rows = (await pool.query<MemoryRow & { total: number }>(page, [...parameters, query.limit, offset])).rows
  const total = rows.length > 0 ? (rows[0] as { total: number }).total : offset === 0 ? 0 : ((await pool.query<{ total: number }>(count, parameters)).rows[0]?.total ?? 0)
  return { memories: rows.map(memoryFromRow), total }
}

export async function updateMemory(pool: PgQueryable, sql: MemorySql, owner: MemoryOwner, id: string, patch: MemoryPatch): Promise<UserMemory | undefined> {
  const topics = patch.topics === undefined ? null : JSON.stringify(patch.topics)
  const row = (await pool.query<MemoryRow>(sql.update, [id, owner.orgId, owner.userId, patch.memory ?? null, topics, patch.updatedAt])).rows[0]
  return row === undefined ? undefined : memoryFromRow(row)
}

export async function deleteMemories(pool: PgQueryable, sql: MemorySql, owner: MemoryOwner, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0
  return (await pool.query(sql.delete, [[...new Set(ids)], owner.orgId, owner.userId])).rowCount ?? 0
}

export async function memoryTopics(pool: PgQueryable, sql: MemorySql, owner: MemoryOwner): Promise<string[]> {
  return (await pool.query<{ value: string }>(sql.topics, [owner.orgId, owner.userId])).rows.map((row) => row.value)
}

/** Inside a commit's transaction: writes and deletes one user's memories; throws when a memory to write is another owner's. */
export async function writeMemories(client: PgQueryable, sql: MemorySql, writes: MemoryWrites): Promise<void> {
  for (const memory of writes.put) {
    checkStoredMemory(memory, writes)
    if ((await client.query(sql.upsert, memoryValues(memory))).rowCount === 0) throw new StorageError('storage.failed', `Memory ${memory.id} belongs to another user`)
  }
  await deleteMemories(client, sql, writes, writes.delete)
}
