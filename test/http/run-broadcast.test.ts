/**
 * The run broadcast on its own, with a scripted reader: who may join (never
 * a client that would miss events), who gets what, and that it stops with
 * its last follower, its run's end or its reader's failure.
 */
import { describe, expect, it } from 'vitest'
import type { RunEvent, Runtime } from 'hearth-runtime'
import { follow, type Broadcasts, type Follower, type SharedBatch } from '../../adapters/http/run-broadcast.js'

/** A runtime whose only method is `runEvents`, fed by `push` and `fail`. */
function scriptedRuntime() {
  const queue: (RunEvent | Error)[] = []
  let wake: (() => void) | undefined
  const signals: AbortSignal[] = []
  const runtime = {
    runEvents(runId: string, options: { afterSeq?: number; signal?: AbortSignal }) {
      signals.push(options.signal as AbortSignal)
      return {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            if (options.signal?.aborted) return
            const next = queue.shift()
            if (next === undefined) {
              await new Promise<void>((resolve) => {
                wake = resolve
                options.signal?.addEventListener('abort', () => resolve(), { once: true })
              })
              continue
            }
            if (next instanceof Error) throw next
            yield next
            if (next.type === 'run.completed') return
          }
        },
      }
    },
  }
  const event = (seq: number, type: RunEvent['type'] = 'message.delta'): RunEvent =>
    ({ runId: 'run_1', sessionId: 'thr_1', seq, type, data: type === 'message.delta' ? { content: `d${seq}`, channel: 'text' } : {}, createdAt: new Date(0).toISOString() }) as RunEvent
  return {
    runtime: runtime as unknown as Runtime,
    signals,
    push(...items: (RunEvent | Error)[]) {
      queue.push(...items)
      wake?.()
    },
    event,
  }
}

/** A follower that records what it is given. */
function recorder(cursor: number) {
  const got: { seqs: number[]; done: boolean }[] = []
  const errors: unknown[] = []
  const follower: Follower & { cursor: number } = {
    cursor,
    deliver(batch: SharedBatch) {
      const first = batch.lastSeq - batch.sizes.length + 1
      got.push({ seqs: batch.sizes.map((_, index) => first + index), done: batch.done })
      follower.cursor = batch.lastSeq
    },
    fail: (error) => void errors.push(error),
  }
  return { follower, got, errors }
}

const options = { maxBytes: 64 * 1024, gapMs: 0 }
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('the run broadcast', () => {
  it('takes a follower only when it has every event delivered so far', async () => {
    const script = scriptedRuntime()
    const registry: Broadcasts = new Map()
    const a = recorder(0)
    const broadcast = follow(registry, script.runtime, 'run_1', a.follower, options)
    expect(broadcast).toBeDefined()
    script.push(script.event(1), script.event(2), script.event(3))
    await settle()
    expect(a.got.flatMap((batch) => batch.seqs)).toEqual([1, 2, 3])
    // Behind what was delivered: it would miss events 2 and 3, so it catches up first.
    expect(follow(registry, script.runtime, 'run_1', recorder(1).follower, options)).toBeUndefined()
    const b = recorder(3)
    const c = recorder(5)
    expect(follow(registry, script.runtime, 'run_1', b.follower, options)).toBe(broadcast)
    expect(follow(registry, script.runtime, 'run_1', c.follower, options)).toBe(broadcast)
    script.push(script.event(4), script.event(5), script.event(6))
    await settle()
    expect(b.got.flatMap((batch) => batch.seqs)).toEqual([4, 5, 6])
    // One ahead gets the same batch; leaving out what it has is its own business.
    expect(c.got.flatMap((batch) => batch.seqs)).toEqual([4, 5, 6])
    expect(script.signals).toHaveLength(1)
  })

  it('stops its reader when the last follower leaves, and a newcomer gets a new one', async () => {
    const script = scriptedRuntime()
    const registry: Broadcasts = new Map()
    const a = recorder(0)
    const b = recorder(0)
    const broadcast = follow(registry, script.runtime, 'run_1', a.follower, options)!
    follow(registry, script.runtime, 'run_1', b.follower, options)
    broadcast.leave(a.follower)
    expect(script.signals[0]?.aborted).toBe(false)
    broadcast.leave(b.follower)
    expect(script.signals[0]?.aborted).toBe(true)
    expect(registry.size).toBe(0)
    expect(follow(registry, script.runtime, 'run_1', recorder(0).follower, options)).not.toBe(broadcast)
    expect(script.signals).toHaveLength(2)
  })

  it('ends with the run: the last batch says done, and nobody joins it after', async () => {
    const script = scriptedRuntime()
    const registry: Broadcasts = new Map()
    const a = recorder(0)
    let joinedDuringLast: boolean | undefined
    const follower: Follower = {
      get cursor() {
        return a.follower.cursor
      },
      deliver(batch) {
        a.follower.deliver(batch)
        if (batch.done) joinedDuringLast = registry.has('run_1')
      },
      fail: a.follower.fail,
    }
    follow(registry, script.runtime, 'run_1', follower, options)
    script.push(script.event(1), script.event(2, 'run.completed'))
    await settle()
    expect(a.got).toEqual([{ seqs: [1, 2], done: true }])
    expect(joinedDuringLast).toBe(false)
    expect(registry.size).toBe(0)
  })

  it("hands its reader's failure to every follower and leaves the registry", async () => {
    const script = scriptedRuntime()
    const registry: Broadcasts = new Map()
    const a = recorder(0)
    const b = recorder(0)
    follow(registry, script.runtime, 'run_1', a.follower, options)
    follow(registry, script.runtime, 'run_1', b.follower, options)
    const failure = new Error('the store is gone')
    script.push(failure)
    await settle()
    expect(a.errors).toEqual([failure])
    expect(b.errors).toEqual([failure])
    expect(registry.size).toBe(0)
  })
})
