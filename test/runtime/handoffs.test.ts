import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, type ModelRequest } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import { iso, makeRun, makeSession } from '../../src/testing/contracts/store-fixtures.js'
import type { RunEvent } from '../../src/index.js'

const systemOf = (request: ModelRequest): string => request.messages.find((message) => message.role === 'system')?.content ?? ''
const lastUser = (request: ModelRequest): string => [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''

/** triage hands billing questions to billing; ping and pong hand the run to each other for ever. */
function script(request: ModelRequest): ScriptedTurn {
  const system = systemOf(request)
  const last = request.messages.at(-1)
  if (system === 'You triage.') return last?.role === 'user' ? callTools({ name: 'transfer_to_billing', arguments: {} }) : reply('triage again?')
  if (system === 'You bill.') return reply(`Billing here about: ${lastUser(request)}`)
  if (system === 'Ping.') return last?.role === 'tool' && last.isError === true ? reply(`ping stops: ${last.content}`) : callTools({ name: 'transfer_to_pong', arguments: {} })
  if (system === 'Pong.') return last?.role === 'tool' && last.isError === true ? reply(`pong stops: ${last.content}`) : callTools({ name: 'transfer_to_ping', arguments: {} })
  return reply('?')
}

async function open(maxHandoffs?: number) {
  const model = scriptedModel(script, { mode: 'sequential' })
  const runtime = await Runtime.open({
    store: memoryStore(),
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'billing', version: 1, instructions: 'You bill.' },
      { key: 'triage', version: 1, instructions: 'You triage.', handoffs: ['billing@1'] },
      { key: 'ping', version: 1, instructions: 'Ping.', handoffs: ['pong'] },
      { key: 'pong', version: 1, instructions: 'Pong.', handoffs: ['ping'] },
    ],
    ...(maxHandoffs === undefined ? {} : { maxHandoffs }),
  })
  return { runtime, model }
}

describe('handoffs', () => {
  it('gives the model transfer_to_<key>; the run goes on as that agent, history kept, persona_id unchanged', async () => {
    const { runtime, model } = await open()
    const run = await runtime.createRun({ input: 'my invoice is wrong', personaId: 'triage@1' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Billing here about: my invoice is wrong', personaId: 'triage@1' })
    const events = await collect(run.events())
    expect(events.map((event) => event.type)).toEqual(['run.started', 'message.completed', 'tool.call', 'agent.handoff', 'tool.result', 'message.delta', 'message.delta', 'message.delta', 'message.delta', 'message.delta', 'message.delta', 'message.delta', 'message.completed', 'run.completed'])
    const callId = (events[2]?.data as { tool_call_id: string }).tool_call_id
    expect(events[3]?.data).toEqual({ from: 'triage@1', to: 'billing@1', tool_call_id: callId })
    expect(events[4]?.data).toMatchObject({ name: 'transfer_to_billing', output: 'Transferred to billing@1.', is_error: false })
    const [first, second] = model.requests
    expect(first?.tools.map((spec) => spec.name)).toEqual(['transfer_to_billing'])
    // The second turn: billing's instructions and tools (none), the conversation so far kept.
    expect(systemOf(second as ModelRequest)).toBe('You bill.')
    expect(second?.tools).toEqual([])
    expect(second?.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool'])
    await runtime.close()
  })

  it('stops handing off at maxHandoffs: the call past it gets an error result and the run goes on as the agent it is', async () => {
    const { runtime } = await open(3)
    const run = await runtime.createRun({ input: 'go', personaId: 'ping@1' })
    const done = await run.result()
    const events = await collect(run.events())
    expect(events.filter((event) => event.type === 'agent.handoff').map((event) => (event.data as { to: string }).to)).toEqual(['pong@1', 'ping@1', 'pong@1'])
    expect(done).toMatchObject({ status: 'completed', content: 'pong stops: The run has handed off 3 times, its limit: answer as pong@1' })
    await runtime.close()
  })

  it('takes one handoff a turn: a second transfer in the same turn gets an error result', async () => {
    const model = scriptedModel((request) => {
      const system = systemOf(request)
      if (system === 'Both.') return callTools({ name: 'transfer_to_ping', arguments: {}, id: 'c1' }, { name: 'transfer_to_pong', arguments: {}, id: 'c2' })
      return reply(`${system} answers`)
    })
    const runtime = await Runtime.open({
      store: memoryStore(),
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [
        { key: 'ping', version: 1, instructions: 'Ping.' },
        { key: 'pong', version: 1, instructions: 'Pong.' },
        { key: 'both', version: 1, instructions: 'Both.', handoffs: ['ping@1', 'pong@1'] },
      ],
      toolConcurrency: 1,
    })
    const run = await runtime.createRun({ input: 'go', personaId: 'both@1' })
    const done = await run.result()
    expect(done.content).toBe('Ping. answers')
    const events = await collect(run.events())
    expect(events.filter((event) => event.type === 'agent.handoff').map((event) => event.data)).toEqual([{ from: 'both@1', to: 'ping@1', tool_call_id: 'c1' }])
    expect(events.find((event) => event.type === 'tool.result' && event.data.tool_call_id === 'c2')?.data).toMatchObject({ is_error: true, output: 'This turn already handed the run over to ping@1' })
    await runtime.close()
  })

  it('goes on as the agent it was handed to after a crash: the current agent is in the log', async () => {
    const store = memoryStore()
    await store.open()
    const session = makeSession({ agent: null })
    await store.insertSession(session)
    const run = makeRun(session, { personaId: 'triage@1', input: 'my invoice is wrong' })
    const event = (seq: number, type: RunEvent['type'], data: unknown) => ({ runId: run.id, sessionId: session.id, seq, type, data, createdAt: iso(seq) }) as RunEvent
    const usage = { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0 }
    await store.commit({
      insertRun: run,
      run: { id: run.id, patch: { status: 'running', startedAt: iso(1) } },
      events: [
        event(1, 'run.started', { persona_id: 'triage@1', route_id: 'default', model: 'm', model_provider: 'scripted', history_run_ids: [] }),
        event(2, 'message.completed', { role: 'assistant', content: '', tool_calls: [{ id: 't1', name: 'transfer_to_billing', arguments: '{}' }], usage }),
        event(3, 'tool.call', { tool_call_id: 't1', name: 'transfer_to_billing', arguments: {}, requires_confirmation: false }),
        event(4, 'agent.handoff', { from: 'triage@1', to: 'billing@1', tool_call_id: 't1' }),
        event(5, 'tool.result', { tool_call_id: 't1', name: 'transfer_to_billing', output: 'Transferred to billing@1.', is_error: false }),
      ],
    })
    const model = scriptedModel(script)
    const runtime = await Runtime.open({
      store,
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [
        { key: 'billing', version: 1, instructions: 'You bill.' },
        { key: 'triage', version: 1, instructions: 'You triage.', handoffs: ['billing@1'] },
      ],
    })
    const done = await runtime.waitForRun(run.id)
    expect(done).toMatchObject({ status: 'completed', content: 'Billing here about: my invoice is wrong', personaId: 'triage@1' })
    expect(model.requests.map(systemOf)).toEqual(['You bill.'])
    await runtime.close()
  })

  it('refuses a handoff to an agent that is not defined, and a malformed reference', async () => {
    const open = (handoffs: string[]) =>
      Runtime.open({ store: memoryStore(), providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted' } }, agents: [{ key: 'a', version: 1, handoffs }] })
    await expect(open(['nobody@1'])).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(open(['bad name'])).rejects.toMatchObject({ code: 'validation.invalid' })
  })
})
