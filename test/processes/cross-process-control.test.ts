import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Runtime, silentLogger, type RunEvent, type RuntimeOptions } from '../../src/index.js'
import { apiClient, serveRuntime } from '../http/support.js'
import { tempDirectory, type TempDirectory } from '../sqlite/temp-dir.js'
import { startChild, type ChildRuntime } from './child-runtime.js'
import { controlOptions } from './control-scenario.js'

let temp: TempDirectory
let path: string
const children: ChildRuntime[] = []
const runtimes: Runtime[] = []
beforeEach(async () => {
  temp = await tempDirectory('hearth-processes-')
  path = temp.file('shared.db')
})
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()))
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()))
  await temp.cleanup()
})

async function child(name: string, role: 'executor' | 'observer' = 'executor'): Promise<ChildRuntime> {
  const started = await startChild(path, name, role)
  children.push(started)
  return started
}

async function open(name: string, extra: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  const runtime = await Runtime.open(controlOptions(path, name, extra))
  runtimes.push(runtime)
  return runtime
}

async function until(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<void> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return
  throw new Error(`run ${runId} ended without ${type}`)
}

/** The run's events, read once from the store. */
const eventsOf = (runtime: Runtime, runId: string): Promise<RunEvent[]> => runtime.readEvents(runId, { limit: 1000 })

describe('cancel and input from any process', () => {
  it('lets an observer answer and cancel runs another process executes, each applied once', async () => {
    const executor = await child('child')
    const observer = await open('parent', { execute: false })
    const session = await observer.createSession()
    const runId = (await executor.send({ op: 'run', sessionId: session.id, agent: 'desk', input: 'refund' })) as string
    await until(observer, runId, 'run.waiting_for_input')
    await observer.submitInput(runId, { content: 'yes' })
    // Resolved once run.input_received was committed, by the process that executes the run.
    expect((await eventsOf(observer, runId)).filter((event) => event.type === 'run.input_received').map((event) => event.data)).toEqual([
      { tool_call_id: 'c1', approved: true, content: 'yes' },
    ])
    expect(await executor.send({ op: 'wait', runId })).toBe('completed')
    expect((await observer.getRun(runId)).content).toBe('child confirmed')
    // A run that is not waiting is refused at once, wherever the call is made.
    await expect(observer.submitInput(runId, { content: 'yes' })).rejects.toMatchObject({ code: 'state.invalid', message: `Run ${runId} is completed, not waiting for input` })

    const slow = (await executor.send({ op: 'run', sessionId: session.id, agent: 'slow', input: 'take your time' })) as string
    await until(observer, slow, 'message.delta')
    await observer.cancelRun(slow, { reason: 'from the observer' })
    expect(await observer.getRun(slow)).toMatchObject({ status: 'cancelled' })
    const events = await eventsOf(observer, slow)
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'from the observer' } })
    expect(events.filter((event) => event.type === 'run.cancelled')).toHaveLength(1)
    expect(await executor.send({ op: 'wait', runId: slow })).toBe('cancelled')
    await expect(observer.cancelRun(slow)).rejects.toMatchObject({ code: 'state.invalid' })
  })

  it('gives one of two racing inputs from two processes the run; the other gets 409 once the winner committed', async () => {
    const owner = await child('child')
    const racer = await open('parent', { execute: false })
    const session = await racer.createSession()
    for (let round = 0; round < 3; round++) {
      const runId = (await owner.send({ op: 'run', sessionId: session.id, agent: 'desk', input: `round ${round}` })) as string
      await until(racer, runId, 'run.waiting_for_input')
      const results = await Promise.allSettled([owner.send({ op: 'input', runId, content: 'yes' }), racer.submitInput(runId, { content: 'no' })])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      const loser = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')?.reason
      expect(loser).toMatchObject({ code: 'state.invalid' })
      expect((await eventsOf(racer, runId)).filter((event) => event.type === 'run.input_received')).toHaveLength(1)
      expect(await owner.send({ op: 'wait', runId })).toBe('completed')
    }
  })

  it('applies a request recorded before its owner was SIGKILLed exactly once, in the runtime that recovers the run', async () => {
    const owner = await child('child')
    // A short lease: the survivor's heartbeat, every 500 ms, finds the dead owner.
    const survivor = await open('parent', { leaseMs: 1500 })
    const session = await survivor.createSession()
    const runId = (await owner.send({ op: 'run', sessionId: session.id, agent: 'desk', input: 'refund' })) as string
    await until(survivor, runId, 'run.waiting_for_input')
    // Frozen, the owner cannot apply the request; it stays recorded, pending.
    owner.process.kill('SIGSTOP')
    const answered = survivor.submitInput(runId, { content: 'yes' })
    const store = survivor.store
    for (let tries = 0; (await store.pendingControls?.(owner.ownerId))?.length !== 1; tries++) {
      if (tries > 200) throw new Error('the request was never recorded')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await owner.kill()
    await answered
    const done = await survivor.waitForRun(runId)
    expect(done).toMatchObject({ status: 'completed', content: 'parent confirmed' })
    expect(await store.getRunOwner?.(runId)).toBe(survivor.ownerId)
    const events = await eventsOf(survivor, runId)
    expect(events.filter((event) => event.type === 'run.input_received')).toHaveLength(1)
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(await store.pendingControls?.(survivor.ownerId as string)).toEqual([])
  })
})

describe('one active run per session across processes', () => {
  it('never runs two runs of one session at once in two executors, and starts them in the order of their ids', async () => {
    const other = await child('child')
    const local = await open('parent')
    const session = await local.createSession()
    const ids: string[] = []
    for (let index = 0; index < 6; index++) {
      ids.push(index % 2 === 0 ? (await local.createRun(session.id, { input: `run ${index}`, personaId: 'slow' })).id : ((await other.send({ op: 'run', sessionId: session.id, agent: 'slow', input: `run ${index}` })) as string))
    }
    const runs = []
    for (const id of ids) runs.push(await local.waitForRun(id))
    expect(runs.map((run) => run.status)).toEqual(ids.map(() => 'completed'))
    // Each executed where it was made.
    expect(runs.map((run) => run.content)).toEqual(ids.map((_, index) => (index % 2 === 0 ? 'parent done' : 'child done')))
    const spans = await Promise.all(
      ids.map(async (id) => {
        const events = await eventsOf(local, id)
        const started = events.find((event) => event.type === 'run.started') as RunEvent
        return { id, start: Date.parse(started.createdAt), end: Date.parse((events.at(-1) as RunEvent).createdAt) }
      }),
    )
    const byStart = [...spans].sort((a, b) => a.start - b.start)
    // In the order of their ids: time-sortable, so creation order (two processes within one millisecond order by the ids' random part).
    expect(byStart.map((span) => span.id)).toEqual([...ids].sort())
    for (let index = 1; index < byStart.length; index++) expect(byStart[index]?.start).toBeGreaterThanOrEqual(byStart[index - 1]?.end as number)
    expect((await local.getSession(session.id)).activeRunId).toBeNull()
  })

  it('lets reject see, and interrupt cancel, a run another process holds', async () => {
    const other = await child('child')
    const local = await open('parent')
    const session = await local.createSession()
    const held = (await other.send({ op: 'run', sessionId: session.id, agent: 'desk', input: 'waits' })) as string
    await until(local, held, 'run.waiting_for_input')
    expect((await local.getSession(session.id)).activeRunId).toBe(held)
    await expect(local.createRun(session.id, { input: 'now', personaId: 'slow', multitask: 'reject' })).rejects.toMatchObject({ code: 'state.thread_busy' })
    const newer = await local.createRun(session.id, { input: 'now', personaId: 'slow', multitask: 'interrupt' })
    expect(await newer.result()).toMatchObject({ status: 'completed', content: 'parent done' })
    expect(await local.getRun(held)).toMatchObject({ status: 'cancelled' })
    expect((await eventsOf(local, held)).at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'Interrupted by a newer run' } })
    // And the other way round: the child's reject sees this process's run.
    const waiting = await local.createRun(session.id, { input: 'waits', personaId: 'desk' })
    await until(local, waiting.id, 'run.waiting_for_input')
    await expect(other.send({ op: 'run', sessionId: session.id, agent: 'slow', input: 'x', multitask: 'reject' })).rejects.toMatchObject({ code: 'state.thread_busy' })
  })
})

describe('over HTTP', () => {
  it('answers and cancels through any process’s server, and is 504 control.timeout when no process executes the run', async () => {
    const executor = await child('child')
    const observer = await open('parent', { execute: false, controlTimeoutMs: 400 })
    const server = await serveRuntime(observer, { logger: silentLogger })
    try {
      const api = apiClient(server.url)
      const thread = (await api('POST', '/v1/threads', {})).body.id as string
      const runId = (await executor.send({ op: 'run', sessionId: thread, agent: 'desk', input: 'refund' })) as string
      await until(observer, runId, 'run.waiting_for_input')
      expect(await api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).toMatchObject({ status: 200, body: { ok: true } })
      expect(await executor.send({ op: 'wait', runId })).toBe('completed')
      expect(await api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).toMatchObject({ status: 409, body: { code: 'state.invalid' } })

      const slow = (await executor.send({ op: 'run', sessionId: thread, agent: 'slow', input: 'slowly' })) as string
      await until(observer, slow, 'message.delta')
      expect(await api('POST', `/v1/runs/${slow}:cancel`)).toMatchObject({ status: 200, body: { ok: true } })
      expect((await api('GET', `/v1/runs/${slow}`)).body.status).toBe('cancelled')

      // With the executor gone, a run the observer made waits for no one: the cancel times out, withdrawn.
      await executor.close()
      const queued = (await api('POST', `/v1/threads/${thread}/runs`, { input: 'later' })).body.run_id as string
      const timedOut = await api('POST', `/v1/runs/${queued}:cancel`)
      expect(timedOut).toMatchObject({ status: 504, body: { code: 'control.timeout', details: { status: 'withdrawn' } } })
      expect((await api('GET', `/v1/runs/${queued}`)).body.status).toBe('queued')
    } finally {
      await server.close()
    }
  })
})
