/**
 * A store that is down for a while (a database server restarting): every
 * call fails with `storage.busy`, the runs whose commits fail are dropped,
 * and the recovery pass that the drop asks for fails too. Once the store is
 * back, the next pass must still take the dropped runs up again.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, StorageError, type Store } from '../../src/index.js'
import { reply, scriptedModel } from '../../src/testing/index.js'

/** A memory store whose every call fails with `storage.busy` while `down` is true. */
function flakyStore(): { store: Store; setDown(down: boolean): void; failed: () => number } {
  const inner = memoryStore()
  let down = false
  let failed = 0
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || property === 'watch' || property === 'open' || property === 'close') {
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (...args: unknown[]) => {
        if (down) {
          failed++
          return Promise.reject(new StorageError('storage.busy', 'The server is restarting'))
        }
        return (value as (...values: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { store, setDown: (value) => void (down = value), failed: () => failed }
}

describe('a store that goes down under a run, then comes back', () => {
  it('takes the dropped run up again, though the pass its drop asked for failed while the store was down', async () => {
    const { store, setDown, failed } = flakyStore()
    const runtime = await Runtime.open({
      store,
      leaseMs: 150,
      logger: { warn: () => {}, error: () => {} },
      model: scriptedModel([reply('one two three four five six seven eight', { delayMs: 15 })]),
    })
    try {
      const run = await runtime.createRun({ input: 'count' })
      for await (const event of run.events()) if (event.seq === 3) break
      setDown(true)
      setTimeout(() => setDown(false), 200)
      // Polled, not waitForRun: reads fail too while the store is down.
      let done
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        done = await runtime.getRun(run.id).catch(() => undefined)
        if (done?.status === 'completed') break
      }
      expect(failed()).toBeGreaterThan(1)
      expect(done).toMatchObject({ status: 'completed', content: 'one two three four five six seven eight' })
      const stored = await runtime.readEvents(run.id)
      expect(stored.map((event) => event.seq)).toEqual(stored.map((_, index) => index + 1))
      expect(stored.filter((event) => event.type === 'run.resumed')).toHaveLength(1)
    } finally {
      await runtime.close()
    }
  })
})
