import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/index.js'
import { recoverRuns, type RecoveryContext } from '../../src/recovery.js'
import { deferred } from '../helpers.js'

/** A recovery context whose claims are recorded and each held until the test lets it go. */
function gatedContext() {
  const log: string[] = []
  const gates: ReturnType<typeof deferred<void>>[] = []
  let claims = 0
  const ownership = {
    ownerId: 'own_me',
    async claim(): Promise<string[]> {
      const pass = ++claims
      const gate = deferred()
      gates.push(gate)
      log.push(`start ${pass}`)
      await gate.promise
      log.push(`end ${pass}`)
      return []
    },
  }
  const scheduler = { takeDropped: () => false, get: () => undefined }
  const context = { store: {}, hub: {}, scheduler, ownership, mode: 'resume', resolve: () => ({}), isClosed: () => false, logger: silentLogger }
  const release = async (pass: number): Promise<void> => {
    for (let tries = 0; gates[pass - 1] === undefined && tries < 1000; tries++) await new Promise((resolve) => setImmediate(resolve))
    gates[pass - 1]?.resolve()
  }
  return { context: context as unknown as RecoveryContext, log, release, claims: () => claims }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('recovery passes of one runtime', () => {
  it('never overlap: calls made during a pass share one next pass, which starts after it', async () => {
    const { context, log, release, claims } = gatedContext()
    const first = recoverRuns(context)
    const second = recoverRuns(context)
    const third = recoverRuns(context)
    expect(third).toBe(second)
    await settle()
    expect(log).toEqual(['start 1'])
    await release(1)
    await first
    await settle()
    expect(log).toEqual(['start 1', 'end 1', 'start 2'])
    // A call made while the second pass runs is not served by it: it read the owners too early.
    const fourth = recoverRuns(context)
    expect(fourth).not.toBe(second)
    await release(2)
    await second
    await release(3)
    await fourth
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'])
    expect(claims()).toBe(3)
    // Idle again: the next call starts a pass at once.
    const fifth = recoverRuns(context)
    await settle()
    expect(log.at(-1)).toBe('start 4')
    await release(4)
    await fifth
  })

  it('runs the next pass after one that failed, and gives the failure to its callers only', async () => {
    const { context, log, release } = gatedContext()
    const ownership = context.ownership as unknown as { claim: () => Promise<string[]> }
    const claim = ownership.claim.bind(ownership)
    let failNext = true
    ownership.claim = async () => {
      const result = await claim()
      if (failNext) {
        failNext = false
        throw new Error('store gone')
      }
      return result
    }
    const first = recoverRuns(context)
    const second = recoverRuns(context)
    await release(1)
    await expect(first).rejects.toThrow('store gone')
    await release(2)
    await expect(second).resolves.toBeUndefined()
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2'])
  })
})
