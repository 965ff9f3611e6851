/**
 * The user memories of the in-memory Store: each user's memories by id, at
 * most `max` in all (past it, the one updated longest ago goes), and the
 * checks of a commit's `memoryWrites` made before anything is written.
 */
import { StorageError } from './errors.js'
import {
  checkStoredMemory,
  compareMemories,
  matchesMemoryQuery,
  type MemoryOwner,
  type MemoryPage,
  type MemoryPatch,
  type MemoryQuery,
  type MemoryWrites,
  type UserMemory,
} from './user-memories.js'

/** A key of an org and a user that no two pairs share (JSON quotes each part). */
const ownerKey = (owner: MemoryOwner): string => JSON.stringify([owner.orgId, owner.userId])

const copyMemory = (memory: UserMemory): UserMemory => ({ ...memory, topics: [...memory.topics] })

/** Memories by id, bounded. */
export class MemoryUserMemories {
  // A Map keeps insertion order: a memory written moves to the end, so the first is the one updated longest ago.
  readonly #memories = new Map<string, UserMemory>()
  /** Each user's memory ids, so a user's reads do not scan everyone's. */
  readonly #byOwner = new Map<string, Set<string>>()
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  insert(memory: UserMemory): void {
    if (this.#memories.has(memory.id)) throw new StorageError('storage.failed', `Memory ${memory.id} already exists`)
    checkStoredMemory(memory, memory)
    this.#keep(copyMemory(memory))
  }

  get(owner: MemoryOwner, id: string): UserMemory | undefined {
    const memory = this.#owned(owner, id)
    return memory === undefined ? undefined : copyMemory(memory)
  }

  list(query: MemoryQuery): MemoryPage {
    const matching: UserMemory[] = []
    for (const memory of this.#ofOwner(query)) if (matchesMemoryQuery(memory, query)) matching.push(memory)
    matching.sort(compareMemories(query))
    const offset = query.offset ?? 0
    return { memories: matching.slice(offset, offset + query.limit).map(copyMemory), total: matching.length }
  }

  update(owner: MemoryOwner, id: string, patch: MemoryPatch): UserMemory | undefined {
    const memory = this.#owned(owner, id)
    if (memory === undefined) return undefined
    const updated: UserMemory = { ...memory, updatedAt: patch.updatedAt }
    if (patch.memory !== undefined) updated.memory = patch.memory
    if (patch.topics !== undefined) updated.topics = [...patch.topics]
    this.#drop(id)
    this.#keep(updated)
    return copyMemory(updated)
  }

  delete(owner: MemoryOwner, ids: readonly string[]): number {
    let count = 0
    for (const id of new Set(ids)) {
      if (this.#owned(owner, id) === undefined) continue
      this.#drop(id)
      count++
    }
    return count
  }

  topics(owner: MemoryOwner): string[] {
    const topics = new Set<string>()
    for (const memory of this.#ofOwner(owner)) for (const topic of memory.topics) topics.add(topic)
    return [...topics].sort()
  }

  /** Checks a commit's writes (throws, writing nothing, when one is another owner's); returns the function that applies them. */
  prepare(writes: MemoryWrites): () => void {
    for (const memory of writes.put) {
      checkStoredMemory(memory, writes)
      const existing = this.#memories.get(memory.id)
      if (existing !== undefined && (existing.orgId !== writes.orgId || existing.userId !== writes.userId)) {
        throw new StorageError('storage.failed', `Memory ${memory.id} belongs to another user`)
      }
    }
    return () => {
      for (const memory of writes.put) {
        this.#drop(memory.id)
        this.#keep(copyMemory(memory))
      }
      this.delete(writes, writes.delete)
    }
  }

  #owned(owner: MemoryOwner, id: string): UserMemory | undefined {
    const memory = this.#memories.get(id)
    return memory !== undefined && memory.orgId === owner.orgId && memory.userId === owner.userId ? memory : undefined
  }

  *#ofOwner(owner: MemoryOwner): Generator<UserMemory> {
    for (const id of this.#byOwner.get(ownerKey(owner)) ?? []) yield this.#memories.get(id) as UserMemory
  }

  #keep(memory: UserMemory): void {
    this.#memories.set(memory.id, memory)
    const key = ownerKey(memory)
    const ids = this.#byOwner.get(key)
    if (ids === undefined) this.#byOwner.set(key, new Set([memory.id]))
    else ids.add(memory.id)
    if (this.#memories.size > this.#max) this.#drop(this.#memories.keys().next().value as string)
  }

  #drop(id: string): void {
    const memory = this.#memories.get(id)
    if (memory === undefined) return
    this.#memories.delete(id)
    const key = ownerKey(memory)
    const ids = this.#byOwner.get(key) as Set<string>
    ids.delete(id)
    if (ids.size === 0) this.#byOwner.delete(key)
  }
}
