import { describe, expect, it } from 'vitest'
import { memoryStore, type RunEvent } from '../../src/index.js'
import { EventHub, readAllEvents, readRunEvents, type LiveRuns } from '../../src/event-stream.js'
import { makeDelta, makeRun, makeSession } from 'hearth-runtime/testing/contracts'

async function storeWithRun(events: number, status: 'running' | 'completed' = 'running') {
  const store = memoryStore()
  await store.open()
  const session = makeSession()
  await store.insertSession(session)
  const run = makeRun(session, { status })
  await store.commit({ insertRun: run, events: Array.from({ length: events }, (_, index) => makeDelta(run, index + 1)) })
  return { store, run, hub: new EventHub() }
}

const completed = (run: { id: string; sessionId: string }, seq: number): RunEvent =>
  ({ runId: run.id, sessionId: run.sessionId, seq, type: 'run.completed', data: { content: 'x', metrics: {} }, createdAt: '2026-01-01T00:00:00.000Z' }) as unknown as RunEvent

async function take(iterator: AsyncIterator<RunEvent>, count: number): Promise<number[]> {
  const seqs: number[] = []
  while (seqs.length < count) {
    const next = await iterator.next()
    if (next.done === true) break
    seqs.push(next.value.seq)
  }
  return seqs
}

describe('EventHub', () => {
  it('stops calling a listener once it unsubscribed, from events and from pokes', async () => {
    const { run, hub } = await storeWithRun(0)
    const seen: string[] = []
    const offRun = hub.subscribe(run.id, (event) => void seen.push(`run ${event.seq}`))
    const offAll = hub.subscribe('*', (event) => void seen.push(`all ${event.seq}`))
    const offPoke = hub.onStoreChange(run.id, () => void seen.push('poke'))
    const offOther = hub.onStoreChange('run_other', () => void seen.push('other poke'))
    hub.publish([makeDelta(run, 1)])
    hub.poke()
    // A poke that names the runs whose logs changed reaches only their readers.
    hub.poke([run.id])
    hub.poke(['run_third'])
    offOther()
    expect(hub.listenerCount('run_other').storeChanges).toBe(0)
    offRun()
    offAll()
    offPoke()
    hub.publish([makeDelta(run, 2)])
    hub.poke()
    expect(seen).toEqual(['run 1', 'all 1', 'poke', 'other poke', 'poke'])
  })
})

describe('EventHub store-change listeners', () => {
  it('keep the other listeners of a run when one leaves, and forget the run once the last has left', () => {
    const hub = new EventHub()
    const seen: string[] = []
    const offA = hub.onStoreChange('run_a', () => void seen.push('a'))
    const offB = hub.onStoreChange('run_a', () => void seen.push('b'))
    offA()
    hub.poke(['run_a'])
    expect(seen).toEqual(['b'])
    expect(hub.listenerCount('run_a').storeChanges).toBe(1)
    offB()
    expect(hub.listenerCount('run_a').storeChanges).toBe(0)
    hub.poke(['run_a'])
    expect(seen).toEqual(['b'])
  })

  it('let a listener that leaves twice take nothing of a later reader of its run', () => {
    const hub = new EventHub()
    const seen: string[] = []
    const offFirst = hub.onStoreChange('run_a', () => void seen.push('first'))
    offFirst()
    hub.onStoreChange('run_a', () => void seen.push('second'))
    offFirst()
    hub.poke(['run_a'])
    expect(seen).toEqual(['second'])
  })
})

/** Counts the store's reads of events, to tell a reader that went back to the log from one that read its buffer. */
function countReads(store: Awaited<ReturnType<typeof storeWithRun>>['store']): { count: number } {
  const counter = { count: 0 }
  const readEvents = store.readEvents.bind(store)
  store.readEvents = (...args: Parameters<typeof readEvents>) => {
    counter.count++
    return readEvents(...args)
  }
  return counter
}

describe('readRunEvents', () => {
  it('holds at most bufferLimit live events: one more sends the reader back to the log, exactly that many does not', async () => {
    for (const [published, reads] of [
      [2, 1],
      [3, 2],
    ] as const) {
      const { store, run, hub } = await storeWithRun(1)
      const reads_ = countReads(store)
      const reader = readRunEvents(store, hub, run.id, { bufferLimit: 2 })
      expect(await take(reader, 1)).toEqual([1])
      const events = Array.from({ length: published }, (_, index) => makeDelta(run, index + 2))
      await store.commit({ events })
      hub.publish(events)
      expect(await take(reader, published)).toEqual(events.map((event) => event.seq))
      expect(reads_.count).toBe(reads)
      await reader.return(undefined)
    }
  })

  it('waits for a run executed elsewhere without reading the store again until something changes', async () => {
    const { store, run, hub } = await storeWithRun(1)
    const reads = countReads(store)
    const reader = readRunEvents(store, hub, run.id)
    expect(await take(reader, 1)).toEqual([1])
    const next = reader.next()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(reads.count).toBe(1)
    await store.commit({ events: [makeDelta(run, 2)] })
    hub.publish([makeDelta(run, 2)])
    expect((await next).value?.seq).toBe(2)
    await reader.return(undefined)
  })

  it('stops at once when the signal aborts while it replays, from the store or from the events a live run holds', async () => {
    const { store, run, hub } = await storeWithRun(3)
    const fromStore = new AbortController()
    const reader = readRunEvents(store, hub, run.id, { signal: fromStore.signal })
    expect(await take(reader, 1)).toEqual([1])
    fromStore.abort()
    expect((await reader.next()).done).toBe(true)

    const held = [makeDelta(run, 1), makeDelta(run, 2), makeDelta(run, 3)]
    const fromHeld = new AbortController()
    const live = readRunEvents(store, hub, run.id, { signal: fromHeld.signal }, { isLive: () => true, committed: () => held })
    expect(await take(live, 1)).toEqual([1])
    fromHeld.abort()
    expect((await live.next()).done).toBe(true)
  })

  it('leaves no listener on the hub once a reader ended, returned or threw', async () => {
    const { store, run, hub } = await storeWithRun(1)
    hub.watching = true
    const reader = readRunEvents(store, hub, run.id)
    expect(await take(reader, 1)).toEqual([1])
    expect(hub.listenerCount(run.id)).toEqual({ events: 1, storeChanges: 1 })
    await reader.return(undefined)
    await expect(take(readRunEvents(store, hub, 'run_none'), 1)).rejects.toMatchObject({ code: 'not_found.run' })
    expect(hub.listenerCount(run.id)).toEqual({ events: 0, storeChanges: 0 })
    expect(hub.listenerCount('run_none').events).toBe(0)
  })

  it('takes a poke that comes while it is not waiting, and reads the store for it', async () => {
    const { store, run, hub } = await storeWithRun(1)
    hub.watching = true
    const reader = readRunEvents(store, hub, run.id)
    expect(await take(reader, 1)).toEqual([1])
    await store.commit({ events: [makeDelta(run, 2)] })
    expect(() => hub.poke()).not.toThrow()
    expect(await take(reader, 1)).toEqual([2])
    await reader.return(undefined)
  })

  it('reads a long log page by page, from a fractional afterSeq rounded down', async () => {
    const { store, run, hub } = await storeWithRun(600)
    const reader = readRunEvents(store, hub, run.id, { afterSeq: 2.7 })
    expect(await take(reader, 598)).toEqual(Array.from({ length: 598 }, (_, index) => index + 3))
    await reader.return(undefined)
  })

  it('ends at once for a finished run past its end, and throws not_found.run for an unknown one', async () => {
    const { store, run, hub } = await storeWithRun(3)
    await store.commit({ run: { id: run.id, patch: { status: 'completed' } } })
    expect(await take(readRunEvents(store, hub, run.id, { afterSeq: 3 }), 10)).toEqual([])
    await expect(take(readRunEvents(store, hub, 'run_none'), 1)).rejects.toMatchObject({ code: 'not_found.run', message: 'Run run_none does not exist' })
  })

  it('follows live events published after the replay, skipping ones it has, and ends after the terminal one', async () => {
    const { store, run, hub } = await storeWithRun(2)
    const reader = readRunEvents(store, hub, run.id)
    expect(await take(reader, 2)).toEqual([1, 2])
    const next = reader.next()
    await store.commit({ events: [makeDelta(run, 3), completed(run, 4)] })
    hub.publish([makeDelta(run, 2), makeDelta(run, 3), completed(run, 4)])
    expect((await next).value?.seq).toBe(3)
    expect(await take(reader, 10)).toEqual([4])
  })

  it('goes back to the log when a live event skips ahead of what it has seen', async () => {
    const { store, run, hub } = await storeWithRun(1)
    const reader = readRunEvents(store, hub, run.id)
    expect(await take(reader, 1)).toEqual([1])
    const next = reader.next()
    await store.commit({ events: [makeDelta(run, 2), makeDelta(run, 3)] })
    // Only seq 3 reaches the hub (seq 2 went elsewhere): the reader must not skip seq 2.
    hub.publish([makeDelta(run, 3)])
    expect((await next).value?.seq).toBe(2)
    expect(await take(reader, 1)).toEqual([3])
    await reader.return(undefined)
  })

  it('falls back to the log when its live buffer overflows', async () => {
    const { store, run, hub } = await storeWithRun(1)
    const reader = readRunEvents(store, hub, run.id, { bufferLimit: 2 })
    expect(await take(reader, 1)).toEqual([1])
    const events = Array.from({ length: 5 }, (_, index) => makeDelta(run, index + 2))
    await store.commit({ events })
    hub.publish(events)
    expect(await take(reader, 5)).toEqual([2, 3, 4, 5, 6])
    await reader.return(undefined)
  })

  it('reads the store again on a poke for a run executed elsewhere, but not for one it executes', async () => {
    const { store, run, hub } = await storeWithRun(1)
    hub.watching = true
    const reader = readRunEvents(store, hub, run.id)
    expect(await take(reader, 1)).toEqual([1])
    const next = reader.next()
    await store.commit({ events: [makeDelta(run, 2)] })
    hub.poke()
    expect((await next).value?.seq).toBe(2)
    await reader.return(undefined)

    let live = true
    const liveRuns: LiveRuns = { isLive: () => live, committed: () => undefined }
    const local = readRunEvents(store, hub, run.id, { afterSeq: 2 }, liveRuns)
    const waiting = local.next()
    await store.commit({ events: [makeDelta(run, 3)] })
    hub.poke()
    // A run this runtime executes gets its events from the hub; the poke alone reads nothing.
    let settled = false
    void waiting.then(() => (settled = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBe(false)
    hub.publish([makeDelta(run, 3)])
    expect((await waiting).value?.seq).toBe(3)
    live = false
    await local.return(undefined)
  })

  it('replays from the events a live run holds, then its buffer, and stops when the signal aborts', async () => {
    const { store, run, hub } = await storeWithRun(0)
    const held = [makeDelta(run, 1), makeDelta(run, 2)]
    const controller = new AbortController()
    const reader = readRunEvents(store, hub, run.id, { signal: controller.signal }, { isLive: () => true, committed: () => held })
    expect(await take(reader, 2)).toEqual([1, 2])
    const next = reader.next()
    controller.abort()
    expect((await next).done).toBe(true)
  })

  it('ends on the terminal event among the held ones', async () => {
    const { store, run, hub } = await storeWithRun(0)
    const held = [makeDelta(run, 1), completed(run, 2), makeDelta(run, 3)]
    const reader = readRunEvents(store, hub, run.id, {}, { isLive: () => true, committed: () => held })
    expect(await take(reader, 5)).toEqual([1, 2])
  })
})

describe('readAllEvents', () => {
  it('keeps the newest bufferLimit events for a consumer that falls behind', async () => {
    const hub = new EventHub()
    const { run } = await storeWithRun(0)
    const feed = readAllEvents(hub, { bufferLimit: 3 })
    hub.publish(Array.from({ length: 5 }, (_, index) => makeDelta(run, index + 1)))
    expect(await take(feed, 3)).toEqual([3, 4, 5])
    await feed.return?.()
  })

  it('drops only events it has not delivered once it holds bufferLimit of them', async () => {
    const hub = new EventHub()
    const { run } = await storeWithRun(0)
    const feed = readAllEvents(hub, { bufferLimit: 3 })
    hub.publish([makeDelta(run, 1), makeDelta(run, 2)])
    expect(await take(feed, 2)).toEqual([1, 2])
    hub.publish([makeDelta(run, 3), makeDelta(run, 4), makeDelta(run, 5)])
    expect(await take(feed, 3)).toEqual([3, 4, 5])
    await feed.return?.()
    expect(hub.listenerCount('*').events).toBe(0)
  })

  it('stays in order past its compaction of consumed events', async () => {
    const hub = new EventHub()
    const { run } = await storeWithRun(0)
    const feed = readAllEvents(hub)
    hub.publish(Array.from({ length: 9000 }, (_, index) => makeDelta(run, index + 1)))
    const seqs = await take(feed, 5000)
    hub.publish([makeDelta(run, 9001)])
    seqs.push(...(await take(feed, 4001)))
    expect(seqs).toEqual(Array.from({ length: 9001 }, (_, index) => index + 1))
    await feed.return?.()
  })

  it('ends on return() and on abort, also while waiting, and takes no more events', async () => {
    const hub = new EventHub()
    const { run } = await storeWithRun(0)
    const controller = new AbortController()
    const feed = readAllEvents(hub, { signal: controller.signal })
    const waiting = feed.next()
    controller.abort()
    expect((await waiting).done).toBe(true)
    hub.publish([makeDelta(run, 1)])
    expect((await feed.next()).done).toBe(true)
    const aborted = new AbortController()
    aborted.abort()
    expect((await readAllEvents(hub, { signal: aborted.signal }).next()).done).toBe(true)
    const other = readAllEvents(hub)
    expect(await other.return?.()).toEqual({ done: true, value: undefined })
    hub.publish([makeDelta(run, 2)])
    expect((await other.next()).done).toBe(true)
  })
})
