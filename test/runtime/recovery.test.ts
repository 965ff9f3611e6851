import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { memoryStore, Runtime, tool, type MemoryStore, type Run, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { makeRun, makeSession } from 'hearth-runtime/testing/contracts'
import { collect, keeperOptions, pruneAroundAWaitingRun } from '../helpers.js'

const charges: string[] = []
const charge = tool({ name: 'charge', input: z.object({ id: z.string() }), execute: ({ id }) => (charges.push(id), 'charged') })
const lookup = tool({ name: 'lookup', input: z.object({ id: z.string() }), idempotent: true, execute: ({ id }) => `found ${id}` })

const deadOwner = { id: 'own_dead', pid: 2 ** 22 + 12345, host: hostname(), startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString() }

/** A store holding a run that a dead process was executing: streamed a tool turn, started both calls, then died. */
async function crashedStore(): Promise<{ store: MemoryStore; run: Run }> {
  const store = memoryStore()
  await store.open()
  await store.registerOwner(deadOwner)
  const session = makeSession({ orgId: 'default' })
  await store.insertSession(session)
  const run = makeRun(session, { personaId: 'shop@1', routeId: 'default', model: 'm', status: 'running', input: 'buy', startedAt: new Date().toISOString() })
  await store.commit({ insertRun: run, ownerId: deadOwner.id })
  const at = new Date().toISOString()
  const base = { runId: run.id, sessionId: session.id, createdAt: at }
  const events: RunEvent[] = [
    { ...base, seq: 1, type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
    {
      ...base,
      seq: 2,
      type: 'message.completed',
      data: {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'c1', name: 'charge', arguments: '{"id":"o1"}' },
          { id: 'c2', name: 'lookup', arguments: '{"id":"o1"}' },
        ],
        usage: { input_tokens: 5, output_tokens: 2, cached_input_tokens: 0, reasoning_tokens: 0 },
      },
    },
    { ...base, seq: 3, type: 'tool.call', data: { tool_call_id: 'c1', name: 'charge', arguments: { id: 'o1' }, requires_confirmation: false } },
    { ...base, seq: 4, type: 'tool.call', data: { tool_call_id: 'c2', name: 'lookup', arguments: { id: 'o1' }, requires_confirmation: false } },
  ]
  await store.commit({ events })
  return { store, run }
}

function options(store: MemoryStore, recovery: 'resume' | 'fail' = 'resume') {
  return {
    store,
    recovery,
    providers: { scripted: scriptedModel([callTools({ name: 'charge', arguments: { id: 'o1' } }), reply('Bought.')]) },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [{ key: 'shop', version: 1, tools: [charge, lookup] }],
  }
}

describe('recovery of a run whose process died', () => {
  it("resumes: interrupts the started non-idempotent call, re-runs the idempotent one, and continues", async () => {
    const { store, run } = await crashedStore()
    const runtime = await Runtime.open(options(store))
    const done = await (await runtime.run(run.id)).result()
    expect(done.status).toBe('completed')
    expect(done.content).toBe('Bought.')
    const events = await collect(runtime.runEvents(run.id))
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(events[4]).toMatchObject({ type: 'run.resumed', data: { reason: 'recovered', discard_after_seq: 4 } })
    const results = Object.fromEntries(events.filter((event) => event.type === 'tool.result').map((event) => [event.data.tool_call_id, event.data]))
    expect(results.c1).toMatchObject({ is_error: true, error_code: 'tool.interrupted' })
    expect(results.c2).toMatchObject({ is_error: false, output: 'found o1' })
    expect(charges).not.toContain('o1')
    // Every tool.call has its tool.result.
    const calls = events.filter((event) => event.type === 'tool.call').map((event) => event.data.tool_call_id)
    expect(Object.keys(results).sort()).toEqual(calls.sort())
    expect((await store.listOwners()).map((owner) => owner.id)).toEqual([runtime.ownerId])
    await runtime.close()
  })

  it("fails the run with run.interrupted under recovery: 'fail', closing its open calls", async () => {
    const { store, run } = await crashedStore()
    const priced = { default: { provider: 'scripted', model: 'm', pricing: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 } } }
    const runtime = await Runtime.open({ ...options(store, 'fail'), routes: priced, creditsPerUsd: 10 })
    const done = await (await runtime.run(run.id)).result()
    // The turn it had streamed is paid for: 7 tokens at 1 USD, 10 credits a USD.
    expect(done).toMatchObject({ status: 'failed', error: { code: 'run.interrupted' }, totalCostUsd: 7, creditsUsed: 70 })
    const events = await collect(runtime.runEvents(run.id))
    expect(events.filter((event) => event.type === 'tool.result').map((event) => event.data.error_code)).toEqual(['tool.interrupted', 'tool.interrupted'])
    await runtime.close()
  })

  it('interrupts an approved call that needs confirmation and never runs it twice; an unanswered one still waits, a denied one is denied', async () => {
    const paid: string[] = []
    const pay = tool({ name: 'pay', needsConfirmation: true, input: z.object({ id: z.string() }), execute: ({ id }) => (paid.push(id), 'paid') })
    for (const answer of ['approved', 'denied', 'none'] as const) {
      const store = memoryStore()
      await store.open()
      await store.registerOwner(deadOwner)
      const session = makeSession({ orgId: 'default' })
      await store.insertSession(session)
      const status = answer === 'none' ? 'waiting_for_input' : 'running'
      const run = makeRun(session, { personaId: 'shop@1', routeId: 'default', model: 'm', status, input: 'pay', startedAt: new Date().toISOString() })
      await store.commit({ insertRun: run, ownerId: deadOwner.id })
      const base = { runId: run.id, sessionId: session.id, createdAt: new Date().toISOString() }
      const events: RunEvent[] = [
        { ...base, seq: 1, type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        {
          ...base,
          seq: 2,
          type: 'message.completed',
          data: { role: 'assistant', content: '', tool_calls: [{ id: 'p1', name: 'pay', arguments: '{"id":"o1"}' }], usage: { input_tokens: 5, output_tokens: 2, cached_input_tokens: 0, reasoning_tokens: 0 } },
        },
        { ...base, seq: 3, type: 'tool.call', data: { tool_call_id: 'p1', name: 'pay', arguments: { id: 'o1' }, requires_confirmation: true } },
        { ...base, seq: 4, type: 'run.waiting_for_input', data: { requests: [{ kind: 'tool_confirmation', tool_call_id: 'p1', tool: 'pay', arguments: { id: 'o1' }, prompt: 'Run pay?' }] } },
      ]
      if (answer !== 'none') events.push({ ...base, seq: 5, type: 'run.input_received', data: { tool_call_id: 'p1', approved: answer === 'approved', content: '' } })
      await store.commit({ events })
      const runtime = await Runtime.open({ ...options(store), providers: { scripted: scriptedModel([callTools({ name: 'pay', arguments: { id: 'o1' } }), reply('Done.')]) }, agents: [{ key: 'shop', version: 1, tools: [pay] }] })
      const handle = await runtime.run(run.id)
      if (answer === 'none') {
        for await (const event of handle.events()) if (event.type === 'run.waiting_for_input' || event.type === 'tool.result') break
        expect(await runtime.getRun(run.id)).toMatchObject({ status: 'waiting_for_input' })
        expect((await runtime.readEvents(run.id)).some((event) => event.type === 'tool.result')).toBe(false)
        await runtime.submitInput(run.id, { approved: false })
      }
      const done = await handle.result()
      expect(done, answer).toMatchObject({ status: 'completed', content: 'Done.' })
      const results = (await collect(runtime.runEvents(run.id))).filter((event) => event.type === 'tool.result').map((event) => event.data)
      expect(results, answer).toEqual([expect.objectContaining({ tool_call_id: 'p1', is_error: true, error_code: answer === 'approved' ? 'tool.interrupted' : 'tool.denied' })])
      await runtime.close()
    }
    expect(paid).toEqual([])
  })

  it('discards the deltas of the turn that was streaming and streams it again', async () => {
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'shop@1', status: 'running', input: 'hi' })
    await store.commit({ insertRun: run, ownerId: deadOwner.id })
    const base = { runId: run.id, sessionId: session.id, createdAt: new Date().toISOString() }
    await store.commit({
      events: [
        { ...base, seq: 1, type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        { ...base, seq: 2, type: 'message.delta', data: { content: 'Half', channel: 'text' } },
      ],
    })
    const runtime = await Runtime.open({ ...options(store), providers: { scripted: scriptedModel([reply('Whole answer')]) } })
    const done = await (await runtime.run(run.id)).result()
    expect(done).toMatchObject({ status: 'completed', content: 'Whole answer' })
    const events = await collect(runtime.runEvents(run.id))
    expect(events[2]).toMatchObject({ seq: 3, type: 'run.resumed', data: { discard_after_seq: 1 } })
    await runtime.close()
  })

  it('leaves the runs of a live owner alone, and starts unowned queued runs', async () => {
    const store = memoryStore()
    await store.open()
    const alive = { ...deadOwner, id: 'own_alive', pid: process.pid }
    await store.registerOwner(alive)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const busy = makeRun(session, { personaId: 'shop@1', status: 'running' })
    await store.commit({ insertRun: busy, ownerId: alive.id })
    const other = makeSession({ orgId: 'default' })
    await store.insertSession(other)
    const queued = makeRun(other, { personaId: 'shop@1', input: 'hi' })
    await store.commit({ insertRun: queued })
    const runtime = await Runtime.open({ ...options(store), providers: { scripted: scriptedModel([reply('ok')]) } })
    expect((await (await runtime.run(queued.id)).result()).status).toBe('completed')
    expect(await store.getRunOwner(busy.id)).toBe('own_alive')
    expect((await store.getRun(busy.id))?.lastSeq).toBe(0)
    await runtime.close()
  })

  it('starts a dead owner’s queued runs of one session oldest first', async () => {
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const older = makeRun(session, { personaId: 'shop@1', input: 'older' })
    const newer = makeRun(session, { personaId: 'shop@1', input: 'newer' })
    // Inserted newest first, so that only the ids tell the order.
    await store.commit({ insertRun: newer, ownerId: deadOwner.id })
    await store.commit({ insertRun: older, ownerId: deadOwner.id })
    const runtime = await Runtime.open({ ...options(store), providers: { scripted: scriptedModel([reply('ok', { delayMs: 5 })]) } })
    const [first, second] = await Promise.all([runtime.waitForRun(older.id), runtime.waitForRun(newer.id)])
    expect([first.status, second.status]).toEqual(['completed', 'completed'])
    expect(Date.parse(second.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(first.completedAt as string))
    await runtime.close()
  })

  it('takes up a session’s running run before its queued one, so the queued one claims the session once, after it', async () => {
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const running = makeRun(session, { personaId: 'shop@1', routeId: 'default', model: 'm', status: 'running', input: 'first', startedAt: new Date().toISOString() })
    await store.commit({ insertRun: running, ownerId: deadOwner.id })
    await store.commit({ events: [{ runId: running.id, sessionId: session.id, seq: 1, createdAt: new Date().toISOString(), type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } }] })
    const queued = makeRun(session, { personaId: 'shop@1', input: 'second' })
    await store.commit({ insertRun: queued, ownerId: deadOwner.id })
    const claims: string[] = []
    const claimSession = store.claimSession.bind(store)
    store.claimSession = (runId) => (claims.push(runId), claimSession(runId))
    const runtime = await Runtime.open({ ...options(store), providers: { scripted: scriptedModel([reply('ok', { delayMs: 5 })]) } })
    const [first, second] = await Promise.all([runtime.waitForRun(running.id), runtime.waitForRun(queued.id)])
    expect([first.status, second.status]).toEqual(['completed', 'completed'])
    expect(claims).toEqual([queued.id])
    await runtime.close()
  })

  it("fails a run that was streaming, with no tool call open, under recovery: 'fail'", async () => {
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'shop@1', routeId: 'default', model: 'm', status: 'running', input: 'x', startedAt: new Date().toISOString() })
    await store.commit({ insertRun: run, ownerId: deadOwner.id })
    const base = { runId: run.id, sessionId: session.id, createdAt: new Date().toISOString() }
    await store.commit({
      events: [
        { ...base, seq: 1, type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        { ...base, seq: 2, type: 'message.delta', data: { content: 'half', channel: 'text' } },
      ],
    })
    const runtime = await Runtime.open(options(store, 'fail'))
    expect(await runtime.waitForRun(run.id)).toMatchObject({
      status: 'failed',
      error: { code: 'run.interrupted', message: 'The process executing this run stopped' },
    })
    await runtime.close()
  })

  it('asks again for a confirmation the crash left unanswered, and interrupts a started call of a tool the agent no longer has', async () => {
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'desk@1', routeId: 'default', model: 'm', status: 'running', input: 'x', startedAt: new Date().toISOString() })
    await store.commit({ insertRun: run, ownerId: deadOwner.id })
    const base = { runId: run.id, sessionId: session.id, createdAt: new Date().toISOString() }
    await store.commit({
      events: [
        { ...base, seq: 1, type: 'run.started', data: { persona_id: 'desk@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        {
          ...base,
          seq: 2,
          type: 'message.completed',
          data: {
            role: 'assistant',
            content: '',
            tool_calls: [
              { id: 'p1', name: 'pay', arguments: '{"id":"o7"}' },
              { id: 'g1', name: 'gone', arguments: '{}' },
            ],
            usage: { input_tokens: 1, output_tokens: 1, cached_input_tokens: 0, reasoning_tokens: 0 },
          },
        },
        // The process died after announcing both calls, before it asked for the confirmation.
        { ...base, seq: 3, type: 'tool.call', data: { tool_call_id: 'p1', name: 'pay', arguments: { id: 'o7' }, requires_confirmation: true } },
        { ...base, seq: 4, type: 'tool.call', data: { tool_call_id: 'g1', name: 'gone', arguments: {}, requires_confirmation: false } },
      ],
    })
    const pay = tool({ name: 'pay', needsConfirmation: true, input: z.object({ id: z.string() }), execute: ({ id }) => `paid ${id}` })
    const runtime = await Runtime.open({ ...options(store), agents: [{ key: 'desk', version: 1, tools: [pay] }], providers: { scripted: scriptedModel([reply('never'), reply('Paid.')]) } })
    for await (const event of runtime.runEvents(run.id)) if (event.type === 'run.waiting_for_input') break
    const waiting = await runtime.getRun(run.id)
    expect(waiting).toMatchObject({ status: 'waiting_for_input', pendingInput: [{ tool_call_id: 'p1' }] })
    await runtime.submitInput(run.id, { content: 'yes' })
    expect(await runtime.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'Paid.' })
    const results = (await collect(runtime.runEvents(run.id))).filter((event) => event.type === 'tool.result').map((event) => event.data)
    expect(results).toMatchObject([
      { tool_call_id: 'g1', error_code: 'tool.interrupted', output: 'Interrupted: the process executing this call stopped' },
      { tool_call_id: 'p1', output: 'paid o7', is_error: false },
    ])
    await runtime.close()
  })

  it('keeps a recovered waiting run the holder of its session: a new run of the session waits behind it', async () => {
    const paid: string[] = []
    const pay = tool({ name: 'pay', needsConfirmation: true, input: z.object({ id: z.string() }), execute: ({ id }) => (paid.push(id), 'paid') })
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'desk@1', routeId: 'default', model: 'm', status: 'waiting_for_input', input: 'x', startedAt: new Date().toISOString() })
    await store.commit({ insertRun: run, ownerId: deadOwner.id })
    const base = { runId: run.id, sessionId: session.id, createdAt: new Date().toISOString() }
    await store.commit({
      events: [
        { ...base, seq: 1, type: 'run.started', data: { persona_id: 'desk@1', route_id: 'default', model: 'm', model_provider: 'scripted' } },
        { ...base, seq: 2, type: 'message.completed', data: { role: 'assistant', content: '', tool_calls: [{ id: 'p1', name: 'pay', arguments: '{"id":"o9"}' }], usage: { input_tokens: 1, output_tokens: 1, cached_input_tokens: 0, reasoning_tokens: 0 } } },
        { ...base, seq: 3, type: 'tool.call', data: { tool_call_id: 'p1', name: 'pay', arguments: { id: 'o9' }, requires_confirmation: true } },
        { ...base, seq: 4, type: 'run.waiting_for_input', data: { requests: [{ kind: 'tool_confirmation', tool_call_id: 'p1', tool: 'pay', arguments: { id: 'o9' }, prompt: 'Pay?' }] } },
      ],
    })
    const runtime = await Runtime.open({ ...options(store), agents: [{ key: 'desk', version: 1, tools: [pay] }], providers: { scripted: scriptedModel([reply('next')]) } })
    const next = await runtime.createRun(session.id, { input: 'another', personaId: 'desk' })
    expect((await collect(runtime.runEvents(next.id, { signal: AbortSignal.timeout(50) })))[0]).toMatchObject({ type: 'run.queued', data: { position: 1 } })
    await runtime.submitInput(run.id, { content: 'no' })
    expect(await runtime.waitForRun(next.id)).toMatchObject({ status: 'completed' })
    expect(paid).toEqual([])
    await runtime.close()
  })

  it('reads a long log whole, page after page, to take a run up', async () => {
    const store = memoryStore()
    await store.open()
    await store.registerOwner(deadOwner)
    const session = makeSession({ orgId: 'default' })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'shop@1', routeId: 'default', model: 'm', status: 'running', input: 'x', startedAt: new Date().toISOString() })
    await store.commit({ insertRun: run, ownerId: deadOwner.id })
    const at = new Date().toISOString()
    const events: RunEvent[] = [{ runId: run.id, sessionId: session.id, seq: 1, createdAt: at, type: 'run.started', data: { persona_id: 'shop@1', route_id: 'default', model: 'm', model_provider: 'scripted' } }]
    const base = { runId: run.id, sessionId: session.id, createdAt: at }
    for (let seq = 2; seq <= 1500; seq++) events.push({ ...base, seq, type: 'message.delta', data: { content: 'x', channel: 'text' } })
    // The turn's end and its tool's result lie past the first page.
    events.push(
      { ...base, seq: 1501, type: 'message.completed', data: { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'lookup', arguments: '{"id":"o1"}' }], usage: { input_tokens: 1, output_tokens: 1, cached_input_tokens: 0, reasoning_tokens: 0 } } },
      { ...base, seq: 1502, type: 'tool.call', data: { tool_call_id: 'c1', name: 'lookup', arguments: { id: 'o1' }, requires_confirmation: false } },
      { ...base, seq: 1503, type: 'tool.result', data: { tool_call_id: 'c1', name: 'lookup', output: 'found o1', is_error: false } },
    )
    await store.commit({ events })
    const model = scriptedModel([reply('never'), reply('done')])
    const runtime = await Runtime.open({ ...options(store), providers: { scripted: model } })
    expect(await runtime.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'done' })
    const stored = await collect(runtime.runEvents(run.id))
    expect(stored[1503]).toMatchObject({ seq: 1504, type: 'run.resumed', data: { discard_after_seq: 1503 } })
    expect(model.requests).toHaveLength(1)
    expect(stored.map((event) => event.seq)).toEqual(stored.map((_, index) => index + 1))
    await runtime.close()
  })

  it("logs a run it could not fail under recovery: 'fail' when the store refuses the commit", async () => {
    const { store, run } = await crashedStore()
    const commit = store.commit.bind(store)
    store.commit = async (entry) => {
      if (entry.events?.some((event) => event.type === 'run.failed')) throw new Error('disk full')
      return commit(entry)
    }
    const errors: unknown[][] = []
    const runtime = await Runtime.open({ ...options(store, 'fail'), logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) } })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(errors.find((entry) => String(entry[0]).startsWith('hearth: could not fail'))).toEqual([`hearth: could not fail interrupted run ${run.id}`, expect.objectContaining({ message: 'disk full' })])
    expect((await store.getRun(run.id))?.status).toBe('running')
    await runtime.close()
  })

  it('logs a recovered run whose resume the store refused, and takes it up again', async () => {
    const { store, run } = await crashedStore()
    const commit = store.commit.bind(store)
    let refused = false
    store.commit = async (entry) => {
      if (!refused && entry.events?.some((event) => event.type === 'run.resumed')) {
        refused = true
        throw new Error('disk full')
      }
      return commit(entry)
    }
    const errors: unknown[][] = []
    const runtime = await Runtime.open({ ...options(store), leaseMs: 150, logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) } })
    expect(await runtime.waitForRun(run.id).then(() => runtime.waitForRun(run.id))).toMatchObject({ status: 'completed' })
    expect(errors.map((entry) => entry[0])).toContain(`hearth: run ${run.id} stopped on an error`)
    await runtime.close()
  })

  it('an observer never executes: its runs wait for an executing runtime', async () => {
    const store = memoryStore()
    const observer = await Runtime.open({ ...options(store), execute: false, providers: { scripted: scriptedModel([reply('from the executor')]) } })
    expect(observer.ownerId).toBeUndefined()
    const session = await observer.createSession()
    const run = await observer.createRun(session.id, { input: 'hi' })
    expect((await observer.getRun(run.id)).status).toBe('queued')
    expect(await store.listOwners()).toEqual([])
    const executor = await Runtime.open({ ...options(store), providers: { scripted: scriptedModel([reply('from the executor')]) } })
    expect(await (await executor.run(run.id)).result()).toMatchObject({ status: 'completed', content: 'from the executor' })
    await executor.close()
    await observer.close()
  })
})

describe('retention', () => {
  it('prunes finished runs before a time in batches, keeping live ones', async () => {
    const store = memoryStore()
    const runtime = await Runtime.open({ ...options(store), ...keeperOptions() })
    await pruneAroundAWaitingRun(runtime, store)
    await expect(runtime.prune({ finishedBefore: 'yesterday' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await runtime.close()
  })
})

describe('a commit that fails', () => {
  it('drops the run in this process, then takes it up again from its log at the next heartbeat', async () => {
    const { MemoryStore: Base, StorageError } = await import('../../src/index.js')
    let failNext = false
    class FlakyStore extends Base {
      override async commit(commit: Parameters<MemoryStore['commit']>[0]): Promise<void> {
        if (failNext && commit.events?.some((event) => event.type === 'message.delta')) {
          failNext = false
          throw new StorageError('storage.busy', 'database is locked')
        }
        return super.commit(commit)
      }
    }
    const store = new FlakyStore()
    const errors: unknown[] = []
    {
      const runtime = await Runtime.open({
        ...options(store as unknown as MemoryStore),
        logger: { warn: () => {}, error: (...args: unknown[]) => void errors.push(args) },
        leaseMs: 150,
        providers: { scripted: scriptedModel([reply('steady as she goes', { delayMs: 5 })]) },
      })
      const session = await runtime.createSession()
      failNext = true
      const run = await runtime.createRun(session.id, { input: 'x' })
      const done = await run.result().then(() => runtime.waitForRun(run.id))
      expect(done).toMatchObject({ status: 'completed', content: 'steady as she goes' })
      const events = await collect(runtime.runEvents(run.id))
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
      expect(events.some((event) => event.type === 'run.resumed')).toBe(true)
      expect(errors).toContainEqual([`hearth: run ${run.id} stopped on an error`, expect.objectContaining({ code: 'storage.busy' })])
      await runtime.close()
    }
  })
})
