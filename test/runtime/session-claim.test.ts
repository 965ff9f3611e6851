import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { memoryStore, Runtime, silentLogger, tool, type MemoryStore, type RunEvent, type RuntimeOptions } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedModel } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

const confirm = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

/** A runtime named `name` on `store`: `slow` streams `<name> done` over ~60 ms, `desk` waits for a confirmation. */
function options(store: MemoryStore, name: string, model: ScriptedModel = modelOf(name)): RuntimeOptions {
  return {
    store,
    leaseMs: 600_000,
    logger: silentLogger,
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'slow', version: 1, instructions: 'slow' },
      { key: 'desk', version: 1, instructions: 'desk', tools: [confirm] },
      { key: 'fails', version: 1, instructions: 'fail' },
    ],
  }
}

function modelOf(name: string): ScriptedModel {
  return scriptedModel((request, index) => {
    if (request.messages[0]?.content === 'slow') return reply(`${name} done`, { deltas: 3, delayMs: 20 })
    if (request.messages[0]?.content === 'fail') return [{ delay: 40 }, { error: { code: 'provider.bad_request', message: 'refused' } }]
    return index === 0 ? callTools({ name: 'confirm', arguments: {}, id: 'c1' }) : reply(`${name} confirmed`)
  })
}

const opened: Runtime[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((runtime) => runtime.close()))
})

async function open(runtimeOptions: RuntimeOptions): Promise<Runtime> {
  const runtime = await Runtime.open(runtimeOptions)
  opened.push(runtime)
  return runtime
}

async function until(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<void> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return
  throw new Error(`run ${runId} ended without ${type}`)
}

/** When each run started and ended, by its events. */
async function spans(runtime: Runtime, runIds: readonly string[]): Promise<{ id: string; start: number; end: number; first: string }[]> {
  return Promise.all(
    runIds.map(async (id) => {
      const events = await collect(runtime.runEvents(id))
      const started = events.find((event) => event.type === 'run.started') as RunEvent
      return { id, start: Date.parse(started.createdAt), end: Date.parse((events.at(-1) as RunEvent).createdAt), first: events[0]?.type as string }
    }),
  )
}

describe('one active run per session, between two runtimes on one store', () => {
  it('queues a run behind another runtime’s run of the session and starts it once that one ended', async () => {
    const store = memoryStore()
    const first = await open(options(store, 'first'))
    const second = await open(options(store, 'second'))
    const session = await first.createSession()
    const ahead = await first.createRun(session.id, { input: 'one', personaId: 'slow' })
    const behind = await second.createRun(session.id, { input: 'two', personaId: 'slow' })
    const later = await second.createRun(session.id, { input: 'three', personaId: 'slow' })
    expect((await collect(second.runEvents(behind.id, { signal: AbortSignal.timeout(20) })))[0]).toMatchObject({ type: 'run.queued', data: { position: 1 } })
    expect((await collect(second.runEvents(later.id, { signal: AbortSignal.timeout(20) })))[0]).toMatchObject({ type: 'run.queued', data: { position: 2 } })
    expect((await second.waitForRun(later.id)).content).toBe('second done')
    expect((await second.waitForRun(behind.id)).content).toBe('second done')
    expect((await first.waitForRun(ahead.id)).content).toBe('first done')
    const [a, b, c] = await spans(first, [ahead.id, behind.id, later.id])
    expect(b?.start).toBeGreaterThanOrEqual(a?.end as number)
    expect(c?.start).toBeGreaterThanOrEqual(b?.end as number)
    expect((await first.getSession(session.id)).activeRunId).toBeNull()
  })

  it('lets reject see another runtime’s waiting run, and interrupt cancel it through its owner', async () => {
    const store = memoryStore()
    const owner = await open(options(store, 'owner'))
    const other = await open(options(store, 'other'))
    const session = await owner.createSession()
    const waiting = await owner.createRun(session.id, { input: 'wait', personaId: 'desk' })
    await until(owner, waiting.id, 'run.waiting_for_input')
    await expect(other.createRun(session.id, { input: 'x', personaId: 'slow', multitask: 'reject' })).rejects.toMatchObject({ code: 'state.thread_busy' })
    const newer = await other.createRun(session.id, { input: 'now', personaId: 'slow', multitask: 'interrupt' })
    expect(await newer.result()).toMatchObject({ status: 'completed', content: 'other done' })
    expect(await owner.getRun(waiting.id)).toMatchObject({ status: 'cancelled' })
    expect((await collect(owner.runEvents(waiting.id))).at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'Interrupted by a newer run' } })
  })

  it('spends no model turn on a run the store would not let start: an older queued run of another runtime goes first', async () => {
    const store = memoryStore()
    const firstModel = modelOf('first')
    const first = await open(options(store, 'first', firstModel))
    const second = await open(options(store, 'second'))
    // The first runtime learns of the second from the store's notice of its registration, on a timer.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const session = await first.createSession()
    const waiting = await first.createRun(session.id, { input: 'wait', personaId: 'desk' })
    await until(first, waiting.id, 'run.waiting_for_input')
    // Queued behind the waiting run: one in the other runtime, then one here, in that order.
    const older = await second.createRun(session.id, { input: 'older', personaId: 'slow' })
    const newer = await first.createRun(session.id, { input: 'newer', personaId: 'slow' })
    await first.submitInput(waiting.id, { content: 'yes' })
    expect((await first.waitForRun(newer.id)).content).toBe('first done')
    expect((await second.waitForRun(older.id)).content).toBe('second done')
    const [o, n] = await spans(first, [older.id, newer.id])
    expect(n?.start).toBeGreaterThanOrEqual(o?.end as number)
    // The desk run's two turns and the newer run's one: nothing asked for a start the store refused.
    expect(firstModel.requests).toHaveLength(3)
  })

  it('passes the session from each run to the next of its lane as it ends, so a shared store sees no claim ahead of those starts', async () => {
    const store = memoryStore()
    const claims: string[] = []
    const claimSession = store.claimSession.bind(store)
    store.claimSession = async (runId: string) => (claims.push(runId), claimSession(runId))
    const first = await open(options(store, 'first'))
    await open(options(store, 'second'))
    // The first runtime learns of the second from the store's notice of its registration, on a timer.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const session = await first.createSession()
    const runs = await Promise.all([1, 2, 3].map((index) => first.createRun(session.id, { input: `r${index}`, personaId: 'slow' })))
    for (const run of runs) expect((await first.waitForRun(run.id)).content).toBe('first done')
    const [a, b, c] = await spans(first, runs.map((run) => run.id))
    expect(b?.start).toBeGreaterThanOrEqual(a?.end as number)
    expect(c?.start).toBeGreaterThanOrEqual(b?.end as number)
    expect(claims).toEqual([])
    expect((await store.getSession(session.id))?.activeRunId).toBeNull()
  })

  it('passes the session on from a run that failed and from one that was cancelled, too: no claim ahead of the next starts', async () => {
    const store = memoryStore()
    const claims: string[] = []
    const claimSession = store.claimSession.bind(store)
    store.claimSession = async (runId: string) => (claims.push(runId), claimSession(runId))
    const first = await open(options(store, 'first'))
    await open(options(store, 'second'))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const session = await first.createSession()
    const failing = await first.createRun(session.id, { input: 'x', personaId: 'fails' })
    const afterFailure = await first.createRun(session.id, { input: 'y', personaId: 'slow' })
    expect((await first.waitForRun(failing.id)).status).toBe('failed')
    expect((await first.waitForRun(afterFailure.id)).content).toBe('first done')
    const desk = await first.createRun(session.id, { input: 'z', personaId: 'desk' })
    const afterCancel = await first.createRun(session.id, { input: 'w', personaId: 'slow' })
    await until(first, desk.id, 'run.waiting_for_input')
    await first.cancelRun(desk.id)
    expect((await first.waitForRun(afterCancel.id)).content).toBe('first done')
    expect(claims).toEqual([])
  })

  it('gives a session to one of two runs started at once in two runtimes; the other waits, queued, and runs after it', async () => {
    const store = memoryStore()
    const first = await open(options(store, 'first'))
    const second = await open(options(store, 'second'))
    const session = await first.createSession()
    const [a, b] = await Promise.all([first.createRun(session.id, { input: 'a', personaId: 'slow' }), second.createRun(session.id, { input: 'b', personaId: 'slow' })])
    expect((await first.waitForRun(a.id)).content).toBe('first done')
    expect((await second.waitForRun(b.id)).content).toBe('second done')
    const [x, y] = (await spans(first, [a.id, b.id])).sort((left, right) => left.start - right.start)
    expect(y?.start).toBeGreaterThanOrEqual(x?.end as number)
    // The run that lost the session was stored queued: its first event says so.
    expect(y?.first).toBe('run.queued')
  })
  it('cancels its own queued run of a session another runtime holds when a newer run interrupts, as well as the other’s run', async () => {
    const store = memoryStore()
    const owner = await open(options(store, 'owner'))
    const other = await open(options(store, 'other'))
    const session = await owner.createSession()
    const waiting = await owner.createRun(session.id, { input: 'wait', personaId: 'desk' })
    await until(owner, waiting.id, 'run.waiting_for_input')
    const queued = await other.createRun(session.id, { input: 'queued', personaId: 'slow' })
    const newer = await other.createRun(session.id, { input: 'now', personaId: 'slow', multitask: 'interrupt' })
    expect(await newer.result()).toMatchObject({ status: 'completed', content: 'other done' })
    expect(await other.getRun(queued.id)).toMatchObject({ status: 'cancelled' })
    expect((await collect(other.runEvents(queued.id))).at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'Interrupted by a newer run' } })
    expect(await owner.getRun(waiting.id)).toMatchObject({ status: 'cancelled' })
  })
})
