/**
 * The row of a user memory, as both SQL stores keep it: its topics as JSON
 * text, the rest as columns of their own.
 */
import type { UserMemory } from '../../src/user-memories.js'

/** A row of `memories`. */
export interface MemoryRow {
  id: string
  org_id: string
  user_id: string
  agent_key: string | null
  memory: string
  topics: string
  created_at: string
  updated_at: string
}

/** The columns of `memories`, in the order of {@link memoryValues}. */
export const memoryColumns = ['id', 'org_id', 'user_id', 'agent_key', 'memory', 'topics', 'created_at', 'updated_at'] as const

/** A memory's values, in the order of {@link memoryColumns}. */
export function memoryValues(memory: UserMemory): unknown[] {
  return [memory.id, memory.orgId, memory.userId, memory.agentKey, memory.memory, JSON.stringify(memory.topics), memory.createdAt, memory.updatedAt]
}

/** A memory from its row. */
export function memoryFromRow(row: MemoryRow): UserMemory {
  return {
    id: row.id,
    orgId: row.org_id,
    userId: row.user_id,
    agentKey: row.agent_key,
    memory: row.memory,
    topics: JSON.parse(row.topics) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** The ORDER BY of a memory query: its time column, then the id, in its order. */
export function memoryOrderBy(sortBy: 'updatedAt' | 'createdAt' | undefined, order: 'asc' | 'desc' | undefined): string {
  const column = sortBy === 'createdAt' ? 'created_at' : 'updated_at'
  const direction = order === 'asc' ? 'ASC' : 'DESC'
  return `${column} ${direction}, id ${direction}`
}
