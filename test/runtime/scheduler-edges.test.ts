import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { MemoryStore, memoryStore, Runtime, StorageError, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { collect, deferred, sleep } from '../helpers.js'

const charges: string[] = []
const charge = tool({ name: 'charge', input: z.object({ id: z.string() }), execute: ({ id }) => (charges.push(id), 'charged') })
const confirm = tool({ name: 'confirm', input: z.object({}), needsConfirmation: true, execute: () => 'confirmed' })

/** A logger that keeps what it is given, so a test can say nothing went wrong. */
function keptLogger() {
  const errors: unknown[][] = []
  return { errors, logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) } }
}

function options(store: MemoryStore, model = scriptedModel([reply('ok')])) {
  const { errors, logger } = keptLogger()
  return {
    errors,
    options: {
      store,
      logger,
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'shop', version: 1, tools: [charge, confirm] }],
    },
  }
}

async function until(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<void> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return
  throw new Error(`run ${runId} ended without ${type}`)
}

/** A memory store whose next commit carrying an event of `type` fails once armed. */
function failingOnce(type: RunEvent['type']) {
  let armed = false
  class Store extends MemoryStore {
    override async commit(commit: Parameters<MemoryStore['commit']>[0]): Promise<void> {
      if (armed && commit.events?.some((event) => event.type === type)) {
        armed = false
        throw new StorageError('storage.busy', 'database is locked')
      }
      return super.commit(commit)
    }
  }
  return { Store, arm: () => void (armed = true) }
}

describe('the scheduler at its edges', () => {
  it('cancels a recovered run whose last turn asked for a call not yet announced: announces it, closes it, and the stretch that was reading stops', async () => {
    const gate = deferred()
    let gated = true
    class SlowSessions extends MemoryStore {
      override async getSession(sessionId: string) {
        if (gated) await gate.promise
        return super.getSession(sessionId)
      }
    }
    const store = new SlowSessions()
    await store.open()
    const dead = { id: 'own_dead', pid: 2 ** 22 + 12345, host: hostname(), startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString() }
    await store.registerOwner(dead)
    const session = makeSession({ orgId: 'default' })
    gated = false
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'shop@1', routeId: 'default', model: 'm', status: 'running', input: 'buy', startedAt: new Date().toISOString() })
    await store.commit({ insertRun: run, ownerId: dead.id })
    const base = { runId: run.id, sessionId: session.id, createdAt: new Date().toISOString() }
    await store.commit({
      events: [
        { ...base, seq: 1, type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        {
          ...base,
          seq: 2,
          type: 'message.completed',
          data: { role: 'assistant', content: '', tool_calls: [{ id: 'c9', name: 'charge', arguments: '{"id":"o9"}' }], usage: { input_tokens: 1, output_tokens: 1, cached_input_tokens: 0, reasoning_tokens: 0 } },
        },
      ],
    })
    gated = true
    const model = scriptedModel([reply('never')])
    const { errors, options: runtimeOptions } = options(store, model)
    const runtime = await Runtime.open({ ...runtimeOptions, recovery: 'resume' })
    await runtime.cancelRun(run.id, { reason: 'stop it' })
    gate.resolve()
    await sleep(20)
    const events = await collect(runtime.runEvents(run.id))
    expect(events.slice(2).map((event) => event.type)).toEqual(['run.resumed', 'tool.call', 'tool.result', 'run.cancelled'])
    expect(events[3]?.data).toEqual({ tool_call_id: 'c9', name: 'charge', arguments: '{"id":"o9"}', requires_confirmation: false })
    expect(events[4]?.data).toMatchObject({ tool_call_id: 'c9', name: 'charge', is_error: true, error_code: 'tool.cancelled', output: 'Cancelled: stop it' })
    expect(charges).not.toContain('o9')
    expect(model.requests).toHaveLength(0)
    expect(errors).toEqual([])
    await runtime.close()
  })

  it('skips a run cancelled while it waited for a free slot: its turn never starts and nothing is logged', async () => {
    const model = scriptedModel((request) => (request.messages.at(-1)?.content === 'first' ? reply('first done', { deltas: 2, delayMs: 30 }) : reply('never')))
    const { errors, options: runtimeOptions } = options(memoryStore(), model)
    const runtime = await Runtime.open({ ...runtimeOptions, concurrency: 1 })
    const busy = await runtime.createRun((await runtime.createSession()).id, { input: 'first' })
    const waiting = await runtime.createRun((await runtime.createSession()).id, { input: 'second' })
    await runtime.cancelRun(waiting.id)
    expect((await busy.result()).content).toBe('first done')
    await sleep(20)
    const events = await collect(runtime.runEvents(waiting.id))
    expect(events.map((event) => event.type)).toEqual(['run.queued', 'run.cancelled'])
    // One run ahead of it in the runtime's queue of one slot.
    expect(events[0]?.data).toEqual({ position: 1 })
    expect(model.requests).toHaveLength(1)
    expect(errors).toEqual([])
    await runtime.close()
  })

  it('starts a recovered queued run on a store that has no session claim', async () => {
    const store = memoryStore()
    Object.defineProperty(store, 'claimSession', { value: undefined })
    await store.open()
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const queued = makeRun(session, { personaId: 'shop@1', input: 'hi' })
    await store.commit({ insertRun: queued })
    const runtime = await Runtime.open(options(store).options)
    const done = await Promise.race([runtime.waitForRun(queued.id), sleep(3000).then(() => 'never started')])
    expect(done).toMatchObject({ status: 'completed', content: 'ok' })
    await runtime.close()
  })

  it('refuses input to a run that is running, and a second cancel of a run a first cancel is ending, each with why', async () => {
    const { options: runtimeOptions } = options(memoryStore(), scriptedModel([reply('slow', { deltas: 2, delayMs: 50 })]))
    const runtime = await Runtime.open(runtimeOptions)
    const run = await runtime.createRun((await runtime.createSession()).id, { input: 'x' })
    await until(runtime, run.id, 'message.delta')
    await expect(runtime.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({ code: 'state.invalid', message: `Run ${run.id} is not waiting for input` })
    const [first, second] = await Promise.allSettled([runtime.cancelRun(run.id), runtime.cancelRun(run.id)])
    expect(first.status).toBe('fulfilled')
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'state.invalid', message: `Run ${run.id} has already ended` } })
    expect((await runtime.getRun(run.id)).status).toBe('cancelled')
    await runtime.close()
  })

  it('rejects an answer whose commit failed, and resumes the run on the next answer', async () => {
    const failing = failingOnce('run.input_received')
    const FailingInput = failing.Store
    const model = scriptedModel([callTools({ name: 'confirm', arguments: {}, id: 'k1' }), reply('confirmed it')])
    const { errors, options: runtimeOptions } = options(new FailingInput(), model)
    const runtime = await Runtime.open(runtimeOptions)
    const run = await runtime.createRun((await runtime.createSession()).id, { input: 'x' })
    await until(runtime, run.id, 'run.waiting_for_input')
    failing.arm()
    await expect(runtime.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({ code: 'storage.busy' })
    expect(model.requests).toHaveLength(1)
    // The answer is not in the store: the run still waits for it there, and here after the run is taken up again.
    expect(await runtime.getRun(run.id)).toMatchObject({ status: 'waiting_for_input', pendingInput: [{ tool_call_id: 'k1' }] })
    await runtime.submitInput(run.id, { content: 'yes' })
    expect(await runtime.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'confirmed it' })
    const events = await collect(runtime.runEvents(run.id))
    expect(events.filter((event) => event.type === 'run.input_received')).toHaveLength(1)
    expect(events.filter((event) => event.type === 'tool.result').map((event) => event.data)).toMatchObject([{ tool_call_id: 'k1', output: 'confirmed', is_error: false }])
    expect(errors).toHaveLength(1)
    await runtime.close()
  })
  it('rejects a cancel whose commit failed; the run still waits, and the next cancel ends it', async () => {
    const failing = failingOnce('run.cancelled')
    const { errors, options: runtimeOptions } = options(new failing.Store(), scriptedModel([callTools({ name: 'confirm', arguments: {}, id: 'k2' }), reply('never')]))
    const runtime = await Runtime.open(runtimeOptions)
    const run = await runtime.createRun((await runtime.createSession()).id, { input: 'x' })
    await until(runtime, run.id, 'run.waiting_for_input')
    failing.arm()
    await expect(runtime.cancelRun(run.id, { reason: 'first try' })).rejects.toMatchObject({ code: 'storage.busy' })
    expect(await runtime.getRun(run.id)).toMatchObject({ status: 'waiting_for_input' })
    await runtime.cancelRun(run.id, { reason: 'second try' })
    expect(await runtime.getRun(run.id)).toMatchObject({ status: 'cancelled', pendingInput: [] })
    const events = await collect(runtime.runEvents(run.id))
    expect(events.filter((event) => event.type === 'run.cancelled').map((event) => event.data)).toMatchObject([{ reason: 'second try' }])
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(errors).toHaveLength(1)
    await runtime.close()
  })
  it('leaves a run that was reading its history when the runtime closed queued and unstarted, for the next runtime', async () => {
    const gate = deferred()
    let gated = false
    class SlowHistory extends MemoryStore {
      override async listRuns(query: Parameters<MemoryStore['listRuns']>[0]) {
        if (gated) await gate.promise
        return super.listRuns(query)
      }
    }
    const store = new SlowHistory()
    const first = await Runtime.open(options(store).options)
    const session = await first.createSession()
    gated = true
    const run = await first.createRun(session.id, { input: 'x' })
    const closing = first.close()
    gate.resolve()
    await closing
    gated = false
    // A memory store outlives its runtime once opened again, as a file does.
    await store.open()
    expect(await store.getRun(run.id)).toMatchObject({ status: 'queued', startedAt: null })
    expect((await store.readEvents(run.id, 0, 100)).map((event) => event.type)).not.toContain('run.started')
    const second = await Runtime.open(options(store).options)
    expect(await second.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'ok' })
    await second.close()
  })
  it('drops a run whose start could not read the store, says so, and takes it up again at once', async () => {
    let failReads = 1
    class FlakyReads extends MemoryStore {
      override async listRuns(query: Parameters<MemoryStore['listRuns']>[0]) {
        if (query.sessionId !== undefined && failReads-- > 0) throw new StorageError('storage.failed', 'disk read error')
        return super.listRuns(query)
      }
    }
    const { errors, options: runtimeOptions } = options(new FlakyReads())
    // A lease far longer than the test: only the drop itself can bring the run back this soon.
    const runtime = await Runtime.open({ ...runtimeOptions, leaseMs: 600_000 })
    const run = await runtime.createRun((await runtime.createSession()).id, { input: 'x' })
    expect(await runtime.waitForRun(run.id).then(() => runtime.waitForRun(run.id))).toMatchObject({ status: 'completed', content: 'ok' })
    expect(errors.map((entry) => entry[0])).toEqual([`hearth: run ${run.id} stopped on an error`])
    await runtime.close()
  })
  it('takes only "yes" or "approve" as approval, says which calls wait when an answer names another, and clears the request at once', async () => {
    let release: (() => void) | undefined
    const slowConfirm = tool({ name: 'confirm', input: z.object({}), needsConfirmation: true, execute: () => new Promise<string>((resolve) => (release = () => resolve('confirmed'))) })
    const model = scriptedModel((request) => (request.messages.at(-1)?.role === 'tool' ? reply('after') : callTools({ name: 'confirm', arguments: {}, id: 'k1' })))
    const runtime = await Runtime.open({ ...options(memoryStore(), model).options, agents: [{ key: 'shop', version: 1, tools: [slowConfirm] }] })
    const session = await runtime.createSession()
    for (const [content, approved] of [
      ['yes, but no', false],
      ['I approve', false],
      [' Approve ', true],
    ] as const) {
      const run = await runtime.createRun(session.id, { input: content })
      await until(runtime, run.id, 'run.waiting_for_input')
      await expect(runtime.submitInput(run.id, { content, toolCallId: 'nope' })).rejects.toMatchObject({
        code: 'validation.invalid',
        message: `Run ${run.id} has no open request for tool call nope`,
        details: { open: ['k1'] },
      })
      await runtime.submitInput(run.id, { content })
      const answer = (await collect(runtime.runEvents(run.id, { signal: AbortSignal.timeout(30) }))).find((event) => event.type === 'run.input_received')
      expect(answer?.data).toMatchObject({ approved })
      expect(await runtime.getRun(run.id)).toMatchObject({ pendingInput: [] })
      if (approved) {
        expect((await runtime.getRun(run.id)).status).toBe('running')
        while (release === undefined) await sleep(1)
        release()
      }
      await runtime.waitForRun(run.id)
    }
    await runtime.close()
  })
})
