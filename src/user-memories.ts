/**
 * User memories: short facts about a user that an agent keeps across that
 * user's sessions (Agno's user memories). Every memory belongs to one org and
 * one user, and every read and write names both: no operation reaches another
 * user's memories. This module holds the record, the store's queries and the
 * checks every store and the runtime share.
 */
import { StorageError, ValidationError } from './errors.js'
import type { Message } from './model.js'
import { hasLoneSurrogate } from './validate.js'

/** A fact about a user, kept across that user's sessions. */
export interface UserMemory {
  /** `mem_...`. */
  id: string
  orgId: string
  /** The user it is about. */
  userId: string
  /** The key of the agent whose run wrote it; null for one written through the API. */
  agentKey: string | null
  /** The fact, at most {@link maxMemoryChars} characters. */
  memory: string
  /** Labels, each 1 to 64 characters, at most {@link maxTopics}. */
  topics: string[]
  createdAt: string
  updatedAt: string
}

/** Whose memories: every store method on memories takes one. */
export interface MemoryOwner {
  orgId: string
  userId: string
}

/** A page of one user's memories. */
export interface MemoryQuery extends MemoryOwner {
  /** Only those an agent with this key wrote. */
  agentKey?: string
  /** Only those with every one of these topics. */
  topics?: readonly string[]
  /** Only those whose text contains this, ignoring case. */
  search?: string
  /** Items per page. */
  limit: number
  /** Items to skip. @default 0 */
  offset?: number
  /** @default 'updatedAt' */
  sortBy?: 'updatedAt' | 'createdAt'
  /** @default 'desc' */
  order?: 'asc' | 'desc'
}

/** A page of memories and how many match in all. */
export interface MemoryPage {
  memories: UserMemory[]
  total: number
}

/** A change to a memory's text or topics. */
export interface MemoryPatch {
  memory?: string
  topics?: readonly string[]
  updatedAt: string
}

/**
 * Memory changes that commit with a run's events (`Commit.memoryWrites`): the
 * memories to write (inserted, or replaced when the id is the user's already)
 * and the ids to delete, all of one user. A memory of another owner under the
 * same id fails the commit with `storage.failed`; an id to delete that the
 * user does not have is skipped.
 */
export interface MemoryWrites extends MemoryOwner {
  put: readonly UserMemory[]
  delete: readonly string[]
}

/** Characters a memory's text may have (Agno's limit). */
export const maxMemoryChars = 5000

/** Topics a memory may have. */
export const maxTopics = 20

/** Characters a topic may have. */
export const maxTopicChars = 64

/** Checks a memory's text; `what` names it in the message. */
export function checkMemoryText(memory: unknown, what = '`memory`'): string {
  if (typeof memory !== 'string' || memory.trim() === '') throw new ValidationError(`Expected ${what} to be a non-empty string`)
  if (memory.length > maxMemoryChars) throw new ValidationError(`Expected ${what} to have at most ${maxMemoryChars} characters, got ${memory.length}`)
  // Text a SQL column holds as it is: no U+0000, no lone surrogate.
  if (memory.includes('\u0000') || hasLoneSurrogate(memory)) throw new ValidationError(`Expected ${what} to hold no U+0000 and no lone surrogate`)
  return memory
}

/** Checks a list of topics and returns it without duplicates. */
export function checkTopics(topics: unknown, what = '`topics`'): string[] {
  if (!Array.isArray(topics)) throw new ValidationError(`Expected ${what} to be an array of strings`)
  const kept = new Set<string>()
  for (const topic of topics) {
    if (typeof topic !== 'string' || topic.trim() === '' || topic.length > maxTopicChars) {
      throw new ValidationError(`Expected each of ${what} to be a non-empty string of at most ${maxTopicChars} characters`)
    }
    kept.add(topic.trim())
  }
  if (kept.size > maxTopics) throw new ValidationError(`Expected at most ${maxTopics} ${what}, got ${kept.size}`)
  return [...kept]
}

/** Checks a user id: a non-empty string of at most 256 characters. */
export function checkUserId(userId: unknown, what = '`userId`'): string {
  if (typeof userId !== 'string' || userId === '' || userId.length > 256) throw new ValidationError(`Expected ${what} to be a non-empty string of at most 256 characters`)
  return userId
}

/** The check every store makes of a memory it writes: the writes' owner, an id, text and topics. */
export function checkStoredMemory(memory: UserMemory, owner: MemoryOwner): void {
  if (memory.orgId !== owner.orgId || memory.userId !== owner.userId) {
    throw new StorageError('storage.failed', `Memory ${memory.id} belongs to ${memory.orgId}/${memory.userId}, not to ${owner.orgId}/${owner.userId}`)
  }
  if (typeof memory.id !== 'string' || memory.id === '') throw new StorageError('storage.failed', 'A memory needs an id')
}

/** True when `memory` matches the query's filters (not its page). */
export function matchesMemoryQuery(memory: UserMemory, query: MemoryQuery): boolean {
  if (memory.orgId !== query.orgId || memory.userId !== query.userId) return false
  if (query.agentKey !== undefined && memory.agentKey !== query.agentKey) return false
  if (query.topics !== undefined && !query.topics.every((topic) => memory.topics.includes(topic))) return false
  if (query.search !== undefined && !memory.memory.toLowerCase().includes(query.search.toLowerCase())) return false
  return true
}

/** Orders memories as a query asks: by its time field, then by id, in its order. */
export function compareMemories(query: Pick<MemoryQuery, 'sortBy' | 'order'>): (a: UserMemory, b: UserMemory) => number {
  const field = query.sortBy ?? 'updatedAt'
  const sign = query.order === 'asc' ? 1 : -1
  return (a, b) => {
    const left = a[field]
    const right = b[field]
    if (left !== right) return left < right ? -sign : sign
    return a.id === b.id ? 0 : a.id < b.id ? -sign : sign
  }
}

/** The text the instructions of a user's run carry about the user: their memories, newest first. */
export function memoryInstructions(memories: readonly { memory: string }[]): string {
  const lines = memories.map((entry) => `- ${entry.memory.replaceAll('\n', ' ')}`)
  return `What you remember about the user from earlier conversations (newest first):\n${lines.join('\n')}`
}

/**
 * Puts the user's memories into a run's first messages: after the system
 * prompt, or as one when the agent has none. A replay of `run.started` does
 * the same, so a resumed run is sent what it was sent.
 */
export function addMemoryInstructions(messages: Message[], memories: readonly { memory: string }[], createdAt: string): void {
  if (memories.length === 0) return
  const text = memoryInstructions(memories)
  const first = messages[0]
  if (first?.role === 'system') messages[0] = { ...first, content: `${first.content}\n\n${text}` }
  else messages.unshift({ role: 'system', content: text, createdAt })
}

/**
 * The newest memories that fit `maxCount` and `maxChars` (the characters of
 * their texts together), newest first: a memory that would cross the bound
 * ends the list.
 */
export function memoriesToInject<T extends { memory: string }>(memories: readonly T[], maxCount: number, maxChars: number): T[] {
  const kept: T[] = []
  let chars = 0
  for (const memory of memories) {
    if (kept.length >= maxCount || chars + memory.memory.length > maxChars) break
    chars += memory.memory.length
    kept.push(memory)
  }
  return kept
}
