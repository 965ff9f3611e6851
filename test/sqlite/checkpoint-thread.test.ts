/**
 * When the background checkpointer starts its thread: not for a store that
 * closes within the first interval, and once for a store that keeps
 * committing past it. Worker is wrapped to count the threads started.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const started = vi.hoisted(() => ({ count: 0 }))
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>()
  class CountedWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args)
      started.count++
    }
  }
  return { ...original, Worker: CountedWorker }
})

const { sqliteStore } = await import('../../adapters/sqlite/index.js')
const { checkpointIntervalMs } = await import('../../adapters/sqlite/checkpointer.js')
const { makeDelta, makeRun, makeSession } = await import('hearth-runtime/testing/contracts')
const { tempDirectory } = await import('./temp-dir.js')

let temp: Awaited<ReturnType<typeof tempDirectory>>
beforeEach(async () => {
  temp = await tempDirectory()
  started.count = 0
})
afterEach(async () => {
  await temp.cleanup()
})

async function commitRun(store: ReturnType<typeof sqliteStore>): Promise<void> {
  const session = makeSession()
  await store.insertSession(session)
  const run = makeRun(session)
  await store.commit({ insertRun: run, events: [makeDelta(run, 1), makeDelta(run, 2)] })
}

describe('the checkpoint thread', () => {
  it('is never started by a store that commits and closes within the first interval', async () => {
    const store = sqliteStore({ path: temp.file('short.db') })
    await store.open()
    await commitRun(store)
    await store.close()
    await new Promise((resolve) => setTimeout(resolve, checkpointIntervalMs + 50))
    expect(started.count).toBe(0)
  })

  it('is started once by a store that keeps committing past it', async () => {
    const store = sqliteStore({ path: temp.file('long.db') })
    await store.open()
    for (let round = 0; round < 3; round++) {
      await commitRun(store)
      await new Promise((resolve) => setTimeout(resolve, checkpointIntervalMs + 20))
    }
    await store.close()
    expect(started.count).toBe(1)
  })
})
