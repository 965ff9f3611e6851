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
 * are two executing runtimes, and `other` holds a run waiting for a confirmation. They hear of each
 * other's writes (a memory store watched by two notifies), but the leases outlast the test: neither
 * takes the other's runs unless a test makes its owner look dead.
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
  it('sends input and cancel to the run’s live owner, which applies each once, and claims nothing', async () => {
    const { store, executor, other, run } = await twoRuntimes()
    await executor.submitInput(run.id, { content: 'yes' })
    expect(await other.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'answered by the other' })
    expect(await store.getRunOwner(run.id)).toBe(other.ownerId)
    const events = await collect(executor.runEvents(run.id))
    expect(events.filter((event) => event.type === 'run.input_received').map((event) => event.data)).toEqual([{ tool_call_id: 'k1', approved: true, content: 'yes' }])

    const second = await other.createRun({ input: 'again' })
    await until(other, second.id, 'run.waiting_for_input')
    await executor.cancelRun(second.id, { reason: 'from the executor' })
    // Resolved once run.cancelled was committed.
    expect(await executor.getRun(second.id)).toMatchObject({ status: 'cancelled', pendingInput: [] })
    expect((await collect(executor.runEvents(second.id))).at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'from the executor' } })
    expect(await store.getRunOwner(second.id)).toBe(other.ownerId)
    // The checks that need no owner are made where the call is.
    await expect(executor.submitInput(second.id, { content: 'yes' })).rejects.toMatchObject({ code: 'state.invalid', message: `Run ${second.id} is cancelled, not waiting for input` })
  })

  it('refuses at once input for a call the run does not wait on, and 409s the loser of two racing answers', async () => {
    const { executor, other, run } = await twoRuntimes()
    await expect(executor.submitInput(run.id, { content: 'yes', toolCallId: 'k9' })).rejects.toMatchObject({ code: 'validation.invalid', details: { open: ['k1'] } })
    const results = await Promise.allSettled([executor.submitInput(run.id, { content: 'yes' }), other.submitInput(run.id, { content: 'no' })])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason)
    expect(rejected).toMatchObject([{ code: 'state.invalid' }])
    const events = await collect(other.runEvents(run.id))
    expect(events.filter((event) => event.type === 'run.input_received')).toHaveLength(1)
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

  it('gives two runtimes racing for a dead owner\'s run to one; the other’s input reaches the winner and is refused there', async () => {
    const { store, executor, run, owner } = await twoRuntimes()
    const third = await open(options(store, 'answered by the third'))
    await becomeZombie(store, owner)
    const results = await Promise.allSettled([executor.submitInput(run.id, { content: 'yes' }), third.submitInput(run.id, { content: 'yes' })])
    const winner = await store.getRunOwner(run.id)
    expect([executor.ownerId, third.ownerId]).toContain(winner)
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason)
    expect(rejected).toMatchObject([{ code: 'state.invalid' }])
    const done = await (winner === executor.ownerId ? executor : third).waitForRun(run.id)
    expect(done.status).toBe('completed')
    expect((await collect(executor.runEvents(run.id))).filter((event) => event.type === 'run.input_received')).toHaveLength(1)
  })

  it('refuses a run whose agent this runtime does not define, though it claimed it', async () => {
    const { store, run, owner } = await twoRuntimes()
    const errors: unknown[][] = []
    const logger = { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) }
    const stranger = await open({ ...options(store, 'unused'), agents: [{ key: 'other', version: 1 }], logger })
    await becomeZombie(store, owner)
    await expect(stranger.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({
      code: 'state.invalid',
      message: `Run ${run.id} is waiting_for_input and this runtime cannot execute it: its agent or route is not defined here`,
      details: { owner_id: stranger.ownerId },
    })
    expect(errors.map((entry) => entry[0])).toContain(`hearth: run ${run.id} cannot be recovered here: Agent desk@1 is not defined`)
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
  it('never claims: its input and cancel go to the run’s owner, or to whoever takes the run over when the owner died', async () => {
    const { store, executor, other, run, owner } = await twoRuntimes()
    const observer = await open(options(store, 'unused', { execute: false }))
    await observer.submitInput(run.id, { content: 'yes' })
    expect(await other.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'answered by the other' })
    expect(await store.getRunOwner(run.id)).toBe(owner.id)

    const second = await other.createRun({ input: 'again' })
    await until(other, second.id, 'run.waiting_for_input')
    await becomeZombie(store, { ...owner, id: other.ownerId as string })
    await observer.cancelRun(second.id, { reason: 'from the observer' })
    expect(await observer.getRun(second.id)).toMatchObject({ status: 'cancelled' })
    // The executor took the dead owner's run over and applied the observer's request.
    expect(await store.getRunOwner(second.id)).toBe(executor.ownerId)
  })

  it('deletes a session whose queued run no runtime executes, after one timeout and a warning', async () => {
    const store = memoryStore()
    const warnings: string[] = []
    const logger = { warn: (message: string) => warnings.push(message), error: () => {} }
    const observer = await open(options(store, 'unused', { execute: false, controlTimeoutMs: 200, logger }))
    const queued = await observer.createRun({ input: 'later' })
    await observer.deleteSession(queued.sessionId)
    await expect(observer.getSession(queued.sessionId)).rejects.toMatchObject({ code: 'not_found.thread' })
    expect(await store.getRun(queued.id)).toBeUndefined()
    expect(warnings).toEqual([expect.stringContaining(`run ${queued.id} of session ${queued.sessionId} was not cancelled`)])
  })

  it('fails with control.timeout when no runtime executes the run, and withdraws the request', async () => {
    const store = memoryStore()
    const observer = await open(options(store, 'unused', { execute: false, controlTimeoutMs: 300 }))
    const queued = await observer.createRun({ input: 'later' })
    const refused = await observer.cancelRun(queued.id).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toMatchObject({ code: 'control.timeout', details: { status: 'withdrawn' }, message: expect.stringContaining('will not be applied') })
    const request = (refused as { details: { request_id: string } }).details.request_id
    expect(await store.getControl(request)).toMatchObject({ status: 'withdrawn' })
    expect(await store.getRunOwner(queued.id)).toBeNull()
    // An executor that comes later runs it: the withdrawn cancel is not applied.
    const executor = await open(options(store, 'done later'))
    const run = await executor.run(queued.id)
    await until(executor, run.id, 'run.waiting_for_input')
    await executor.submitInput(run.id, { content: 'yes' })
    expect(await executor.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'done later' })
  })
})
