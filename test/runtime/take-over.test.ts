import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { MemoryStore as BaseStore, memoryStore, Runtime, silentLogger, tool, type Commit, type MemoryStore, type Owner, type RunEvent, type RuntimeOptions } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn, type TurnPicker } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import { spawnZombie, type Zombie } from '../zombie.js'

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

/** Options of a runtime on `store` whose runs ask for a confirmation, then answer `answer`. Its lease outlasts the test. */
function options(store: MemoryStore, answer: string, extra: Partial<RuntimeOptions> = {}): RuntimeOptions {
  const script: readonly ScriptedTurn[] | TurnPicker = [callTools({ name: 'confirm', arguments: {}, id: 'k1' }), reply(answer)]
  return {
    store,
    leaseMs: 600_000,
    logger: silentLogger,
    providers: { scripted: scriptedModel(script) },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [{ key: 'desk', version: 1, tools: [confirm] }],
    ...extra,
  }
}

async function until(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<void> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return
  throw new Error(`run ${runId} ended without ${type}`)
}

const opened: Runtime[] = []
const zombies: Zombie[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((runtime) => runtime.close()))
  await Promise.all(zombies.splice(0).map((zombie) => zombie.release()))
})

async function open(runtimeOptions: RuntimeOptions): Promise<Runtime> {
  const runtime = await Runtime.open(runtimeOptions)
  opened.push(runtime)
  return runtime
}

/**
 * A store where `executor` (opened first, so it saw no run to claim) and `other` (opened second)
 * are two executing runtimes, and `other` holds a run waiting for a confirmation. The memory store
 * does not watch, and the leases outlast the test: `executor` learns nothing of `other` by itself.
 */
async function twoRuntimes(input = 'please') {
  const store = memoryStore()
  const executor = await open(options(store, 'answered by the executor'))
  const other = await open(options(store, 'answered by the other'))
  const run = await other.createRun({ input })
  await until(other, run.id, 'run.waiting_for_input')
  const owner = (await store.listOwners()).find((entry) => entry.id === other.ownerId) as Owner
  return { store, executor, other, run, owner }
}

/** Makes `owner` look dead the way a SIGKILLed process on this host does before it is reaped. */
async function becomeZombie(store: MemoryStore, owner: Owner): Promise<void> {
  const zombie = await spawnZombie()
  zombies.push(zombie)
  await store.registerOwner({ ...owner, pid: zombie.pid })
}

describe('input and cancel for a run another process holds', () => {
  it('refuses while its owner lives, with the owner in details, and claims nothing', async () => {
    const { store, executor, other, run } = await twoRuntimes()
    const refused = { code: 'state.invalid', details: { owner_id: other.ownerId } }
    await expect(executor.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({
      ...refused,
      message: `Run ${run.id} is waiting_for_input in another live process (owner ${other.ownerId}): input must go to the runtime that executes it`,
    })
    await expect(executor.cancelRun(run.id)).rejects.toMatchObject({
      ...refused,
      message: `Run ${run.id} is waiting_for_input in another live process (owner ${other.ownerId}): a cancel must go to the runtime that executes it`,
    })
    expect(await store.getRunOwner(run.id)).toBe(other.ownerId)
    // Its owner still answers it.
    await other.submitInput(run.id, { content: 'yes' })
    expect(await other.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'answered by the other' })
  })

  it('answers at once a waiting run whose owner is a zombie on this host', async () => {
    const { store, executor, run, owner } = await twoRuntimes()
    await becomeZombie(store, owner)
    await executor.submitInput(run.id, { content: 'yes' })
    expect(await executor.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'answered by the executor' })
    expect(await store.getRunOwner(run.id)).toBe(executor.ownerId)
    // The dead owner's row went with the claim.
    expect((await store.listOwners()).map((entry) => entry.id)).not.toContain(owner.id)
    const events = await collect(executor.runEvents(run.id))
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(events.find((event) => event.type === 'run.input_received')?.data).toMatchObject({ tool_call_id: 'k1', approved: true })
  })

  it('answers at once a waiting run whose owner on another host is past its lease', async () => {
    const { store, executor, run, owner } = await twoRuntimes()
    await store.registerOwner({ ...owner, host: 'elsewhere', heartbeatAt: new Date(Date.now() - 600_001).toISOString() })
    await executor.submitInput(run.id, { content: 'no thanks' })
    const done = await executor.waitForRun(run.id)
    expect(done).toMatchObject({ status: 'completed', content: 'answered by the executor' })
    const events = await collect(executor.runEvents(run.id))
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true, error_code: 'tool.denied' })
  })

  it('cancels at once a waiting run whose owner is gone', async () => {
    const { store, executor, run, owner } = await twoRuntimes()
    await store.removeOwner(owner.id)
    await executor.cancelRun(run.id, { reason: 'stop' })
    expect(await executor.getRun(run.id)).toMatchObject({ status: 'cancelled', pendingInput: [] })
    const events = await collect(executor.runEvents(run.id))
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ tool_call_id: 'k1', error_code: 'tool.cancelled' })
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'stop' } })
    expect(await store.getRunOwner(run.id)).toBe(executor.ownerId)
  })

  it('recovers, then cancels, a running run whose owner is a zombie', async () => {
    const store = memoryStore()
    const executor = await open(options(store, 'unused'))
    const other = await open({ ...options(store, 'unused'), providers: { scripted: scriptedModel(() => [{ text: 'half ' }, { delay: 600_000 }]) } })
    const run = await other.createRun({ input: 'go' })
    await until(other, run.id, 'message.delta')
    await becomeZombie(store, (await store.listOwners()).find((entry) => entry.id === other.ownerId) as Owner)
    await executor.cancelRun(run.id, { reason: 'enough' })
    expect(await executor.getRun(run.id)).toMatchObject({ status: 'cancelled' })
    const types = (await collect(executor.runEvents(run.id))).map((event) => event.type)
    expect(types.slice(0, 3)).toEqual(['run.started', 'message.delta', 'run.resumed'])
    expect(types.at(-1)).toBe('run.cancelled')
  })

  it("under recovery: 'fail', a cancel of a running run whose owner died finds it failed by the takeover", async () => {
    // Commits land a macrotask later, as on a file: the takeover's failure is not yet stored when the cancel looks.
    class SlowStore extends BaseStore {
      override async commit(commit: Commit): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 5))
        return super.commit(commit)
      }
    }
    const store = new SlowStore()
    const executor = await open(options(store, 'unused', { recovery: 'fail' }))
    const other = await open({ ...options(store, 'unused'), providers: { scripted: scriptedModel(() => [{ text: 'half ' }, { delay: 600_000 }]) } })
    const run = await other.createRun({ input: 'go' })
    await until(other, run.id, 'message.delta')
    await store.removeOwner(other.ownerId as string)
    await expect(executor.cancelRun(run.id)).rejects.toMatchObject({ code: 'state.invalid', message: `Run ${run.id} is failed and cannot be cancelled`, details: {} })
    expect(await executor.getRun(run.id)).toMatchObject({ status: 'failed', error: { code: 'run.interrupted' } })
  })

  it('cancels at once an unowned queued run that an observer stored', async () => {
    const store = memoryStore()
    const executor = await open(options(store, 'unused'))
    const observer = await open(options(store, 'unused', { execute: false }))
    const run = await observer.createRun({ input: 'later' })
    expect(await store.getRunOwner(run.id)).toBeNull()
    await executor.cancelRun(run.id)
    expect(await executor.getRun(run.id)).toMatchObject({ status: 'cancelled' })
    // Claimed, it may have started before the cancel landed.
    expect((await collect(executor.runEvents(run.id))).map((event) => event.type)).toEqual(expect.arrayContaining(['run.cancelled']))
    expect(await store.getRunOwner(run.id)).toBe(executor.ownerId)
  })

  it('gives two runtimes racing for a dead owner\'s run to one; the other is refused with the winner in details', async () => {
    const { store, executor, run, owner } = await twoRuntimes()
    const third = await open(options(store, 'answered by the third'))
    await becomeZombie(store, owner)
    const results = await Promise.allSettled([executor.submitInput(run.id, { content: 'yes' }), third.submitInput(run.id, { content: 'yes' })])
    const winner = await store.getRunOwner(run.id)
    expect([executor.ownerId, third.ownerId]).toContain(winner)
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason)
    expect(rejected).toHaveLength(1)
    expect(rejected[0]).toMatchObject({ code: 'state.invalid', details: { owner_id: winner }, message: expect.stringContaining('in another live process') })
    expect((await (winner === executor.ownerId ? executor : third).waitForRun(run.id)).status).toBe('completed')
  })

  it('refuses a run whose agent this runtime does not define, though it claimed it', async () => {
    const { store, run, owner } = await twoRuntimes()
    const stranger = await open({ ...options(store, 'unused'), agents: [{ key: 'other', version: 1 }] })
    await becomeZombie(store, owner)
    await expect(stranger.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({
      code: 'state.invalid',
      message: `Run ${run.id} is waiting_for_input and this runtime cannot execute it: its agent or route is not defined here`,
      details: { owner_id: stranger.ownerId },
    })
  })

  it('keeps the old answers for a finished run, another org\'s run and an unknown one, and claims none of them', async () => {
    const { store, executor, other, run, owner } = await twoRuntimes()
    const elsewhere = await other.createRun({ input: 'theirs', orgId: 'acme' })
    await until(other, elsewhere.id, 'run.waiting_for_input')
    await becomeZombie(store, owner)
    await expect(executor.submitInput(elsewhere.id, { content: 'yes', orgId: 'default' })).rejects.toMatchObject({ code: 'not_found.run' })
    await expect(executor.cancelRun(elsewhere.id, { orgId: 'default' })).rejects.toMatchObject({ code: 'not_found.run' })
    await expect(executor.submitInput('run_nope', { content: 'yes' })).rejects.toMatchObject({ code: 'not_found.run', message: 'Run run_nope does not exist' })
    expect(await store.getRunOwner(elsewhere.id)).toBe(other.ownerId)

    await executor.submitInput(run.id, { content: 'yes' })
    await executor.waitForRun(run.id)
    await expect(executor.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({
      code: 'state.invalid',
      message: `Run ${run.id} is completed, not waiting for input`,
      details: {},
    })
    await expect(executor.cancelRun(run.id)).rejects.toMatchObject({ code: 'state.invalid', message: `Run ${run.id} is completed and cannot be cancelled`, details: {} })
  })
})

describe('an observer (execute: false)', () => {
  it('never claims: input and cancel are refused with the owner in details, null for an unowned run', async () => {
    const { store, run, owner } = await twoRuntimes()
    const observer = await open(options(store, 'unused', { execute: false }))
    await expect(observer.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({
      code: 'state.invalid',
      message: `Run ${run.id} is waiting_for_input and this runtime only observes (execute: false): input must go to the runtime that executes it (owner ${owner.id})`,
      details: { owner_id: owner.id },
    })
    // Not even when the owner is dead.
    await becomeZombie(store, owner)
    await expect(observer.cancelRun(run.id)).rejects.toMatchObject({ code: 'state.invalid', details: { owner_id: owner.id } })
    expect(await store.getRunOwner(run.id)).toBe(owner.id)

    const queued = await observer.createRun({ input: 'later' })
    await expect(observer.cancelRun(queued.id)).rejects.toMatchObject({
      code: 'state.invalid',
      message: `Run ${queued.id} is queued and this runtime only observes (execute: false): a cancel must go to an executing runtime (the run has no owner yet)`,
      details: { owner_id: null },
    })
    expect(await store.getRunOwner(queued.id)).toBeNull()
  })
})
