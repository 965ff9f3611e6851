/**
 * The Store contract's cases for user memories: every read and write names
 * an org and a user and reaches only that user's memories; a page is
 * filtered, sorted and counted; memories a run writes commit with its
 * events, all or nothing. Registered by `runStoreContract` inside its
 * describe block, so every store runs them.
 */
import { expect, it } from 'vitest'
import { createId } from '../../ids.js'
import type { Store } from '../../store.js'
import type { MemoryOwner, UserMemory } from '../../user-memories.js'
import { iso, makeDelta, makeRun, makeSession, type StoreFixture } from './store-fixtures.js'

/** A memory of `owner`, fields overridden. */
export function makeMemory(owner: MemoryOwner, overrides: Partial<UserMemory> = {}): UserMemory {
  return { id: createId('mem'), orgId: owner.orgId, userId: owner.userId, agentKey: null, memory: 'Likes tea', topics: [], createdAt: iso(), updatedAt: iso(), ...overrides }
}

/** Registers the memory cases; `current` gives the open store of the running case. */
export function memoryContractCases(current: () => { store: Store; fixture: StoreFixture }): void {
  const ann: MemoryOwner = { orgId: 'acme', userId: 'ann' }
  const bob: MemoryOwner = { orgId: 'acme', userId: 'bob' }
  const otherOrgAnn: MemoryOwner = { orgId: 'other', userId: 'ann' }

  function memories(store: Store): Store & Required<Pick<Store, 'insertMemory' | 'getMemory' | 'listMemories' | 'updateMemory' | 'deleteMemories' | 'memoryTopics'>> {
    for (const method of ['insertMemory', 'getMemory', 'listMemories', 'updateMemory', 'deleteMemories', 'memoryTopics'] as const) {
      expect(typeof store[method], `Store.${method}`).toBe('function')
    }
    return store as Store & Required<Store>
  }

  it('keeps a user memory and reads it back only for its org and user', async () => {
    const store = memories(current().store)
    const memory = makeMemory(ann, { agentKey: 'support', memory: 'Prefers email, h\u00e9 \u{1F525}', topics: ['contact', 'preferences'] })
    await store.insertMemory(memory)
    expect(await store.getMemory(ann, memory.id)).toEqual(memory)
    expect(await store.getMemory(bob, memory.id)).toBeUndefined()
    expect(await store.getMemory(otherOrgAnn, memory.id)).toBeUndefined()
    expect(await store.getMemory(ann, 'mem_missing')).toBeUndefined()
    await expect(store.insertMemory(memory)).rejects.toMatchObject({ code: 'storage.failed' })
    // Reads are copies.
    const read = (await store.getMemory(ann, memory.id)) as UserMemory
    read.topics.push('changed')
    expect(await store.getMemory(ann, memory.id)).toEqual(memory)
  })

  it('updates and deletes only the named user’s memories', async () => {
    const store = memories(current().store)
    const mine = makeMemory(ann)
    const his = makeMemory(bob)
    await store.insertMemory(mine)
    await store.insertMemory(his)
    expect(await store.updateMemory(bob, mine.id, { memory: 'stolen', updatedAt: iso(5) })).toBeUndefined()
    expect(await store.updateMemory(otherOrgAnn, mine.id, { memory: 'stolen', updatedAt: iso(5) })).toBeUndefined()
    expect(await store.getMemory(ann, mine.id)).toEqual(mine)
    const updated = await store.updateMemory(ann, mine.id, { topics: ['drinks'], updatedAt: iso(6) })
    expect(updated).toEqual({ ...mine, topics: ['drinks'], updatedAt: iso(6) })
    expect(await store.updateMemory(ann, mine.id, { memory: 'Likes coffee', updatedAt: iso(7) })).toEqual({ ...mine, memory: 'Likes coffee', topics: ['drinks'], updatedAt: iso(7) })
    // A delete naming both users' ids reaches only the named user's.
    expect(await store.deleteMemories(bob, [mine.id, his.id, 'mem_missing'])).toBe(1)
    expect(await store.getMemory(ann, mine.id)).toBeDefined()
    expect(await store.getMemory(bob, his.id)).toBeUndefined()
    expect(await store.deleteMemories(otherOrgAnn, [mine.id])).toBe(0)
    expect(await store.deleteMemories(ann, [mine.id, mine.id])).toBe(1)
    expect(await store.getMemory(ann, mine.id)).toBeUndefined()
  })

  it('lists a user’s memories filtered, sorted, paged and counted, and their topics', async () => {
    const store = memories(current().store)
    const list = [
      makeMemory(ann, { memory: 'Lives in Lisbon', topics: ['location'], agentKey: 'support', createdAt: iso(1), updatedAt: iso(10) }),
      makeMemory(ann, { memory: 'Likes green TEA', topics: ['drinks', 'preferences'], createdAt: iso(2), updatedAt: iso(9) }),
      makeMemory(ann, { memory: 'Works at a bakery', topics: ['work'], agentKey: 'support', createdAt: iso(3), updatedAt: iso(8) }),
      makeMemory(ann, { memory: 'Allergic to nuts', topics: ['health', 'preferences'], createdAt: iso(4), updatedAt: iso(7) }),
    ]
    for (const memory of list) await store.insertMemory(memory)
    await store.insertMemory(makeMemory(bob, { memory: 'Likes tea too', topics: ['drinks', 'secret'] }))
    await store.insertMemory(makeMemory(otherOrgAnn, { memory: 'Likes tea elsewhere', topics: ['elsewhere'] }))
    const [lisbon, tea, bakery, nuts] = list as [UserMemory, UserMemory, UserMemory, UserMemory]
    expect(await store.listMemories({ ...ann, limit: 10 })).toEqual({ memories: [lisbon, tea, bakery, nuts], total: 4 })
    expect(await store.listMemories({ ...ann, limit: 2, offset: 1 })).toEqual({ memories: [tea, bakery], total: 4 })
    expect(await store.listMemories({ ...ann, limit: 2, offset: 4 })).toEqual({ memories: [], total: 4 })
    expect(await store.listMemories({ ...ann, limit: 10, sortBy: 'createdAt', order: 'desc' })).toEqual({ memories: [nuts, bakery, tea, lisbon], total: 4 })
    expect(await store.listMemories({ ...ann, limit: 10, order: 'asc' })).toEqual({ memories: [nuts, bakery, tea, lisbon], total: 4 })
    expect(await store.listMemories({ ...ann, limit: 10, agentKey: 'support' })).toEqual({ memories: [lisbon, bakery], total: 2 })
    expect(await store.listMemories({ ...ann, limit: 10, topics: ['preferences'] })).toEqual({ memories: [tea, nuts], total: 2 })
    expect(await store.listMemories({ ...ann, limit: 10, topics: ['preferences', 'health'] })).toEqual({ memories: [nuts], total: 1 })
    expect(await store.listMemories({ ...ann, limit: 10, search: 'tea' })).toEqual({ memories: [tea], total: 1 })
    // Characters a LIKE pattern would treat as wildcards are text.
    expect(await store.listMemories({ ...ann, limit: 10, search: '%' })).toEqual({ memories: [], total: 0 })
    expect(await store.listMemories({ ...ann, limit: 10, search: 'i_' })).toEqual({ memories: [], total: 0 })
    expect(await store.listMemories({ orgId: 'acme', userId: 'nobody', limit: 10 })).toEqual({ memories: [], total: 0 })
    expect(await store.memoryTopics(ann)).toEqual(['drinks', 'health', 'location', 'preferences', 'work'])
    expect(await store.memoryTopics({ orgId: 'acme', userId: 'nobody' })).toEqual([])
  })

  it('writes a run’s memories with its events, and none of them when the commit fails', async () => {
    const store = memories(current().store)
    const session = makeSession({ orgId: 'acme', userId: 'ann' })
    await store.insertSession(session)
    const run = makeRun(session)
    await store.commit({ insertRun: run })
    const kept = makeMemory(ann, { memory: 'Old fact' })
    const dropped = makeMemory(ann, { memory: 'Wrong fact' })
    const others = makeMemory(bob, { memory: 'Bob’s fact' })
    for (const memory of [kept, dropped, others]) await store.insertMemory(memory)
    const added = makeMemory(ann, { memory: 'New fact', agentKey: 'support', topics: ['new'] })
    const changed = { ...kept, memory: 'Old fact, corrected', updatedAt: iso(9) }
    // A commit that fails (its seq does not follow) writes no memory either.
    await expect(store.commit({ events: [makeDelta(run, 5)], memoryWrites: { ...ann, put: [added], delete: [dropped.id] } })).rejects.toMatchObject({ code: 'storage.conflict' })
    expect(await store.getMemory(ann, added.id)).toBeUndefined()
    expect(await store.getMemory(ann, dropped.id)).toBeDefined()
    // A write of another user's memory under its id fails the whole commit.
    await expect(store.commit({ events: [makeDelta(run, 1)], memoryWrites: { ...ann, put: [{ ...others, orgId: 'acme', userId: 'ann' }], delete: [] } })).rejects.toMatchObject({ code: 'storage.failed' })
    expect(await store.readEvents(run.id, 0, 10)).toEqual([])
    expect(await store.getMemory(bob, others.id)).toEqual(others)
    await store.commit({ events: [makeDelta(run, 1)], memoryWrites: { ...ann, put: [added, changed], delete: [dropped.id, others.id] } })
    expect(await store.readEvents(run.id, 0, 10)).toHaveLength(1)
    expect(await store.getMemory(ann, added.id)).toEqual(added)
    expect(await store.getMemory(ann, kept.id)).toEqual(changed)
    expect(await store.getMemory(ann, dropped.id)).toBeUndefined()
    // Bob's id in Ann's deletes is skipped.
    expect(await store.getMemory(bob, others.id)).toEqual(others)
  })
}
