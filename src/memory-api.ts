/**
 * The TypeScript API of user memories: `runtime.memories` (any user, named
 * on each call) and the `UserMemories` of one user that a tool of that
 * user's run gets as `ctx.memories`. Every call names a user and reaches only
 * that user's memories; nothing here clears them all.
 */
import { NotFoundError, StateError, ValidationError } from './errors.js'
import { createId } from './ids.js'
import type { Store } from './store.js'
import { checkMemoryText, checkTopics, checkUserId, type MemoryOwner, type UserMemory } from './user-memories.js'
import { optionalString } from './validate.js'

/** Options of {@link MemoryApi.list} and {@link UserMemories.list}. */
export interface ListMemoriesOptions {
  /** Only those an agent with this key wrote. @default all */
  agentKey?: string
  /** Only those with every one of these topics. @default all */
  topics?: readonly string[]
  /** Only those whose text contains this, ignoring case. @default all */
  search?: string
  /** Items per page, 1 to 100. @default 20 */
  limit?: number
  /** The page, from 1. @default 1 */
  page?: number
  /** @default 'updatedAt' */
  sortBy?: 'updatedAt' | 'createdAt'
  /** @default 'desc' */
  order?: 'asc' | 'desc'
}

/** A page of memories. */
export interface MemoryList {
  memories: UserMemory[]
  /** How many match in all. */
  total: number
  page: number
  limit: number
}

/** A memory to add. */
export interface NewMemory {
  memory: string
  /** @default [] */
  topics?: readonly string[]
  /** The agent it is about, when one wrote it. @default null */
  agentKey?: string | null
}

/** A change to a memory: its text, its topics, or both. */
export interface MemoryChangeInput {
  memory?: string
  topics?: readonly string[]
}

/** The store's memory methods, required. */
type MemoryStore = Required<Pick<Store, 'insertMemory' | 'getMemory' | 'listMemories' | 'updateMemory' | 'deleteMemories' | 'memoryTopics'>>

/** The store, when it keeps memories; `state.invalid` otherwise. */
export function memoryStoreOf(store: Store): MemoryStore {
  if (!keepsMemories(store)) throw new StateError('The store does not keep user memories (it has no insertMemory, listMemories, ...)')
  return store as unknown as MemoryStore
}

/** True when the store has every memory method. */
export function keepsMemories(store: Store): boolean {
  return (
    typeof store.insertMemory === 'function' &&
    typeof store.getMemory === 'function' &&
    typeof store.listMemories === 'function' &&
    typeof store.updateMemory === 'function' &&
    typeof store.deleteMemories === 'function' &&
    typeof store.memoryTopics === 'function'
  )
}

function checkPositive(value: unknown, name: string, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max) throw new ValidationError(`Expected \`${name}\` to be an integer from 1 to ${max}, got \`${String(value)}\``)
  return value as number
}

/** The memories of one user of one org. */
export class UserMemories {
  readonly #store: Store
  /** Whose memories these are. */
  readonly owner: MemoryOwner

  constructor(store: Store, owner: MemoryOwner) {
    this.#store = store
    this.owner = { orgId: owner.orgId, userId: owner.userId }
  }

  /** A page of the user's memories, newest update first unless told otherwise. */
  async list(options: ListMemoriesOptions = {}): Promise<MemoryList> {
    const limit = checkPositive(options.limit, 'limit', 100, 20)
    const page = checkPositive(options.page, 'page', 1_000_000, 1)
    if (options.sortBy !== undefined && options.sortBy !== 'updatedAt' && options.sortBy !== 'createdAt') throw new ValidationError("Expected `sortBy` to be 'updatedAt' or 'createdAt'")
    if (options.order !== undefined && options.order !== 'asc' && options.order !== 'desc') throw new ValidationError("Expected `order` to be 'asc' or 'desc'")
    if (options.agentKey !== undefined && (typeof options.agentKey !== 'string' || options.agentKey === '')) throw new ValidationError('Expected `agentKey` to be a non-empty string')
    if (options.search !== undefined && typeof options.search !== 'string') throw new ValidationError('Expected `search` to be a string')
    const topics = options.topics === undefined ? undefined : checkTopics(options.topics)
    const result = await memoryStoreOf(this.#store).listMemories({
      ...this.owner,
      limit,
      offset: (page - 1) * limit,
      ...(options.agentKey === undefined ? {} : { agentKey: options.agentKey }),
      ...(topics === undefined || topics.length === 0 ? {} : { topics }),
      ...(options.search === undefined || options.search === '' ? {} : { search: options.search }),
      ...(options.sortBy === undefined ? {} : { sortBy: options.sortBy }),
      ...(options.order === undefined ? {} : { order: options.order }),
    })
    return { memories: result.memories, total: result.total, page, limit }
  }

  /** The memory; `not_found.memory` when the user has none with this id. */
  async get(memoryId: string): Promise<UserMemory> {
    const memory = await memoryStoreOf(this.#store).getMemory(this.owner, checkMemoryId(memoryId))
    if (memory === undefined) throw notFound(memoryId)
    return memory
  }

  /** Adds a memory and returns it. */
  async create(input: NewMemory): Promise<UserMemory> {
    if (typeof input !== 'object' || input === null) throw new ValidationError('Expected a memory object')
    const memory = checkMemoryText(input.memory)
    const topics = input.topics === undefined ? [] : checkTopics(input.topics)
    const agentKey = input.agentKey ?? null
    if (agentKey !== null && (typeof agentKey !== 'string' || agentKey === '')) throw new ValidationError('Expected `agentKey` to be a non-empty string or null')
    const now = new Date().toISOString()
    const record: UserMemory = { id: createId('mem'), ...this.owner, agentKey, memory, topics, createdAt: now, updatedAt: now }
    await memoryStoreOf(this.#store).insertMemory(record)
    return record
  }

  /** Changes a memory's text or topics and returns it; `not_found.memory` when the user has none with this id. */
  async update(memoryId: string, change: MemoryChangeInput): Promise<UserMemory> {
    checkMemoryId(memoryId)
    if (typeof change !== 'object' || change === null || (change.memory === undefined && change.topics === undefined)) {
      throw new ValidationError('Expected a change with `memory`, `topics` or both')
    }
    const patch = {
      updatedAt: new Date().toISOString(),
      ...(change.memory === undefined ? {} : { memory: checkMemoryText(change.memory) }),
      ...(change.topics === undefined ? {} : { topics: checkTopics(change.topics) }),
    }
    const updated = await memoryStoreOf(this.#store).updateMemory(this.owner, memoryId, patch)
    if (updated === undefined) throw notFound(memoryId)
    return updated
  }

  /** Deletes the user's memories among these ids (others' are left alone); returns how many went. */
  async delete(memoryIds: readonly string[]): Promise<number> {
    if (!Array.isArray(memoryIds) || memoryIds.length === 0 || memoryIds.length > 100) throw new ValidationError('Expected `memoryIds` to be an array of 1 to 100 memory ids')
    for (const id of memoryIds) checkMemoryId(id)
    return memoryStoreOf(this.#store).deleteMemories(this.owner, memoryIds)
  }

  /** The topics of the user's memories, sorted. */
  async topics(): Promise<string[]> {
    return memoryStoreOf(this.#store).memoryTopics(this.owner)
  }
}

function checkMemoryId(id: unknown): string {
  if (typeof id !== 'string' || id === '' || id.length > 256) throw new ValidationError('Expected a memory id: a non-empty string')
  return id
}

function notFound(memoryId: string): NotFoundError {
  return new NotFoundError('not_found.memory', `Memory ${memoryId} not found`)
}

/** Whose memories a {@link MemoryApi} call reaches: a user, and the org (default `'default'`). */
export interface MemoryScope {
  userId: string
  /** @default 'default' */
  orgId?: string
}

/** `runtime.memories`: user memories, each call naming its user. */
export class MemoryApi {
  readonly #store: Store

  constructor(store: Store) {
    this.#store = store
  }

  /** The memories of one user, to call without naming them again. */
  of(scope: MemoryScope): UserMemories {
    if (typeof scope !== 'object' || scope === null) throw new ValidationError('Expected `{ userId, orgId? }`')
    return new UserMemories(this.#store, { orgId: optionalString(scope.orgId, 'orgId', { nonEmpty: true }) ?? 'default', userId: checkUserId(scope.userId) })
  }

  /** A page of a user's memories. */
  async list(options: MemoryScope & ListMemoriesOptions): Promise<MemoryList> {
    return await this.of(options).list(options)
  }

  /** A user's memory; `not_found.memory` when it is not theirs. */
  async get(options: MemoryScope & { memoryId: string }): Promise<UserMemory> {
    return await this.of(options).get(options.memoryId)
  }

  /** Adds a memory for a user. */
  async create(options: MemoryScope & NewMemory): Promise<UserMemory> {
    return await this.of(options).create(options)
  }

  /** Changes a user's memory. */
  async update(options: MemoryScope & MemoryChangeInput & { memoryId: string }): Promise<UserMemory> {
    return await this.of(options).update(options.memoryId, options)
  }

  /** Deletes those of the ids that are the user's memories; returns how many. */
  async delete(options: MemoryScope & { memoryIds: readonly string[] }): Promise<number> {
    return await this.of(options).delete(options.memoryIds)
  }

  /** The topics of a user's memories. */
  async topics(options: MemoryScope): Promise<string[]> {
    return await this.of(options).topics()
  }
}
