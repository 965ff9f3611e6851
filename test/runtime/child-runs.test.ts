import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { agentTool, memoryStore, Runtime, tool, type AgentDefinition, type ModelRequest, type RunEvent, type Store } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import { iso, makeChildRun, makeRun, makeSession } from '../../src/testing/contracts/store-fixtures.js'

/** The text of the last user message of a request. */
function lastUser(request: ModelRequest): string {
  return [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
}

/** The agent whose instructions a request carries. */
function agentOf(request: ModelRequest): string {
  return request.messages.find((message) => message.role === 'system')?.content ?? ''
}

/** The last tool message of a request. */
function lastToolOutput(request: ModelRequest): string {
  return [...request.messages].reverse().find((message) => message.role === 'tool')?.content ?? ''
}

const usage = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 2, reasoningTokens: 1 }

/**
 * lead@1 asks researcher@1 (its input in the user message after `ask:`),
 * then answers with what it got; researcher@1 answers `Found: <input>`, or
 * for `/email` first calls send_email (needs confirmation).
 */
function script(request: ModelRequest, index: number): ScriptedTurn {
  const who = agentOf(request)
  if (who === 'You lead.') {
    if (index === 0) return [{ usage }, ...callTools({ name: 'researcher', arguments: { input: lastUser(request).replace(/^ask: /, '') }, id: 'call_1' })]
    return reply(`Lead got: ${lastToolOutput(request)}`, { usage })
  }
  if (who === 'You dig deeper.') {
    if (index === 0) return [{ usage }, ...callTools({ name: 'researcher', arguments: { input: lastUser(request) }, id: 'call_1' })]
    return reply(`Deeper: ${lastToolOutput(request)}`, { usage })
  }
  const input = lastUser(request)
  if (input.startsWith('/email') && index === 0) return callTools({ name: 'send_email', arguments: { to: 'a@x.io' }, id: 'call_1' })
  if (input.startsWith('/slow')) return reply(`Found: ${input}`, { delayMs: 50, usage })
  return reply(`Found: ${index === 0 ? input : lastToolOutput(request)}`, { usage })
}

const sent: string[] = []
const sendEmail = tool({
  name: 'send_email',
  input: z.object({ to: z.string() }),
  needsConfirmation: true,
  execute: ({ to }) => {
    sent.push(to)
    return `sent to ${to}`
  },
})

const researcher: AgentDefinition = { key: 'researcher', version: 1, instructions: 'You research.', tools: [sendEmail] }
const lead: AgentDefinition = { key: 'lead', version: 1, instructions: 'You lead.', tools: [agentTool('researcher@1')] }
const deeper: AgentDefinition = { key: 'deeper', version: 1, instructions: 'You dig deeper.', tools: [agentTool('lead@1', { name: 'researcher' })] }

async function open(options: { concurrency?: number; maxDepth?: number; pricing?: { inputPerMillion: number; outputPerMillion: number }; store?: Store } = {}) {
  const model = scriptedModel(script, { pricing: options.pricing })
  const runtime = await Runtime.open({
    store: options.store ?? memoryStore(),
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'test-model' } },
    agents: [researcher, lead, deeper],
    defaultAgent: 'lead@1',
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
  })
  return { runtime, model }
}

async function waitFor(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<RunEvent> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return event
  throw new Error(`no ${type} in run ${runId}`)
}

describe('child runs (agentTool)', () => {
  it('runs the agent as a child run in the parent’s session, referenced from the parent’s log, and answers with its content', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'ask: the moon' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Lead got: Found: the moon' })
    const events = await collect(run.events())
    const started = events.find((event) => event.type === 'subrun.started')
    const childId = (started?.data as { child_run_id: string }).child_run_id
    expect(started?.data).toEqual({ child_run_id: childId, agent: 'researcher@1', tool_call_id: 'call_1', input: 'the moon' })
    expect(events.map((event) => event.type).filter((type) => type.startsWith('subrun.') || type.startsWith('tool.'))).toEqual(['tool.call', 'subrun.started', 'subrun.completed', 'tool.result'])
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ tool_call_id: 'call_1', name: 'researcher', output: 'Found: the moon', is_error: false })
    const child = await runtime.getRun(childId)
    expect(child).toMatchObject({ status: 'completed', content: 'Found: the moon', parentRunId: run.id, rootRunId: run.id, depth: 1, parentToolCallId: 'call_1', sessionId: run.sessionId, personaId: 'researcher@1' })
    const childEvents = await collect(runtime.runEvents(childId))
    expect(childEvents.map((event) => event.seq)).toEqual(childEvents.map((_, index) => index + 1))
    expect((await runtime.listRuns({ parentRunId: run.id })).map((found) => found.id)).toEqual([childId])
    // The session's history for a later run has the parent's turn, not the child's.
    const next = await runtime.createRun(run.sessionId, { input: 'ask: the sun' })
    await next.result()
    const nextStarted = (await collect(next.events())).find((event) => event.type === 'run.started')
    expect(nextStarted?.data).toMatchObject({ history_run_ids: [run.id] })
    await runtime.close()
  })

  it('rolls the child’s usage and cost into the parent’s', async () => {
    const { runtime } = await open({ pricing: { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 } })
    const run = await runtime.createRun({ input: 'ask: costs' })
    const done = await run.result()
    const events = await collect(run.events())
    const completed = events.find((event) => event.type === 'subrun.completed')?.data as { usage: { input_tokens: number }; total_cost_usd: number; child_run_id: string }
    const child = await runtime.getRun(completed.child_run_id)
    expect(child.metrics).toMatchObject({ inputTokens: 10, outputTokens: 5 })
    expect(completed).toMatchObject({ status: 'completed', usage: { input_tokens: 10, output_tokens: 5 }, total_cost_usd: child.totalCostUsd })
    // Two turns of its own (20 in, 10 out) and the child's one (10 in, 5 out): $1 per input token, $2 per output token.
    expect(done.metrics).toMatchObject({ inputTokens: 30, outputTokens: 15, totalTokens: 45, cachedInputTokens: 6, reasoningTokens: 3 })
    expect(child.totalCostUsd).toBe(20)
    expect(done.totalCostUsd).toBe(60)
    expect(done.creditsUsed).toBe(60_000)
    await runtime.close()
  })

  it('nests without deadlock at concurrency 1: a parent waiting on its child gives its slot back', async () => {
    const { runtime } = await open({ concurrency: 1 })
    const runs = await Promise.all([runtime.createRun({ input: 'ask: a', personaId: 'deeper@1' }), runtime.createRun({ input: 'ask: b' })])
    const [first, second] = await Promise.all(runs.map((run) => run.result()))
    expect(first).toMatchObject({ status: 'completed', content: 'Deeper: Lead got: Found: a' })
    expect(second).toMatchObject({ status: 'completed', content: 'Lead got: Found: b' })
    const [lead] = await runtime.listRuns({ parentRunId: runs[0]?.id })
    const [grandchild] = await runtime.listRuns({ parentRunId: lead?.id })
    expect(grandchild).toMatchObject({ depth: 2, rootRunId: runs[0]?.id, status: 'completed' })
    await runtime.close()
  })

  it('gives a call past maxDepth an error result with run.depth_exceeded, and the parent goes on', async () => {
    const { runtime } = await open({ maxDepth: 1 })
    const run = await runtime.createRun({ input: 'ask: too deep', personaId: 'deeper@1' })
    const done = await run.result()
    expect(done.status).toBe('completed')
    const [child] = await runtime.listRuns({ parentRunId: run.id })
    const childEvents = await collect(runtime.runEvents(child?.id as string))
    expect(childEvents.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true, error_code: 'run.depth_exceeded' })
    expect(await runtime.listRuns({ parentRunId: child?.id })).toEqual([])
    await runtime.close()
  })

  it('puts the parent in waiting_for_input while its child waits, and input sent to the parent lands in the child', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'ask: /email' })
    const waiting = await waitFor(runtime, run.id, 'run.waiting_for_input')
    const [child] = await runtime.listRuns({ parentRunId: run.id })
    const childId = child?.id as string
    expect(waiting.data).toEqual({ requests: [expect.objectContaining({ tool_call_id: 'call_1', tool: 'send_email', run_id: childId })] })
    const parent = await runtime.getRun(run.id)
    expect(parent).toMatchObject({ status: 'waiting_for_input', pendingInput: [expect.objectContaining({ run_id: childId, tool_call_id: 'call_1' })] })
    expect((await runtime.getRun(childId)).status).toBe('waiting_for_input')
    await runtime.submitInput(run.id, { content: 'yes' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Lead got: Found: sent to a@x.io', pendingInput: [] })
    const childEvents = await collect(runtime.runEvents(childId))
    expect(childEvents.find((event) => event.type === 'run.input_received')?.data).toEqual({ tool_call_id: 'call_1', approved: true, content: 'yes' })
    const events = await collect(run.events())
    expect(events.find((event) => event.type === 'run.input_received')?.data).toEqual({ tool_call_id: 'call_1', approved: true, content: 'yes', run_id: childId })
    expect(sent).toEqual(['a@x.io'])
    await runtime.close()
  })

  it('takes input sent to the child itself, and the parent shows the answer and goes on', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'ask: /email' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    const [child] = await runtime.listRuns({ parentRunId: run.id })
    await runtime.submitInput(child?.id as string, { content: 'no thanks', approved: false })
    const done = await run.result()
    expect(done.status).toBe('completed')
    const events = await collect(run.events())
    expect(events.find((event) => event.type === 'run.input_received')?.data).toEqual({ tool_call_id: 'call_1', approved: false, content: 'no thanks', run_id: child?.id })
    expect((await runtime.getRun(child?.id as string)).content).toBe('Found: The user denied this call: no thanks')
    await runtime.close()
  })

  it('sends the child a transcript of the parent’s recent turns with context: { recentTurns }', async () => {
    const model = scriptedModel((request, index) => {
      const who = agentOf(request)
      if (who === 'Remember.') return index === 0 ? callTools({ name: 'researcher', arguments: { input: 'what did I say?' }, id: 'call_1' }) : reply('ok')
      return reply(`child saw: ${lastUser(request)}`)
    })
    const runtime = await Runtime.open({
      store: memoryStore(),
      providers: { scripted: model },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [researcher, { key: 'rememberer', version: 1, instructions: 'Remember.', tools: [agentTool('researcher@1', { context: { recentTurns: 1 } })] }],
    })
    const run = await runtime.createRun({ input: 'my cat is Tom', personaId: 'rememberer@1' })
    await run.result()
    const [child] = await runtime.listRuns({ parentRunId: run.id })
    expect(child?.input).toBe('The conversation so far:\nuser: my cat is Tom\n\nYour task:\nwhat did I say?')
    expect(child?.content).toBe(`child saw: ${child?.input}`)
    await runtime.close()
  })

  it('answers input for a child’s request sent to the parent in another org with not_found.run, naming neither run', async () => {
    const { runtime } = await open()
    const session = await runtime.createSession({ orgId: 'acme' })
    const run = await runtime.createRun(session.id, { input: 'ask: /email', orgId: 'acme' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    const [child] = await runtime.listRuns({ parentRunId: run.id })
    const refused = runtime.submitInput(run.id, { content: 'yes', orgId: 'other' })
    await expect(refused).rejects.toMatchObject({ code: 'not_found.run' })
    await expect(refused).rejects.not.toThrow(child?.id as string)
    expect((await runtime.getRun(child?.id as string)).status).toBe('waiting_for_input')
    await runtime.submitInput(run.id, { content: 'yes', orgId: 'acme' })
    expect((await run.result()).status).toBe('completed')
    await runtime.close()
  })

  it('cancelling the parent cancels its unfinished descendants', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'ask: /email', personaId: 'deeper@1' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    const [lead] = await runtime.listRuns({ parentRunId: run.id })
    const [researcherRun] = await runtime.listRuns({ parentRunId: lead?.id })
    expect(researcherRun?.status).toBe('waiting_for_input')
    await runtime.cancelRun(run.id, { reason: 'enough' })
    expect((await runtime.getRun(run.id)).status).toBe('cancelled')
    expect((await runtime.waitForRun(lead?.id as string)).status).toBe('cancelled')
    expect((await runtime.waitForRun(researcherRun?.id as string)).status).toBe('cancelled')
    await runtime.close()
  })

  it('gives a cancelled child an error result naming its status, and the parent goes on', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'ask: /email' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    const [child] = await runtime.listRuns({ parentRunId: run.id })
    await runtime.cancelRun(child?.id as string)
    const done = await run.result()
    expect(done.status).toBe('completed')
    const events = await collect(run.events())
    expect(events.find((event) => event.type === 'subrun.completed')?.data).toMatchObject({ status: 'cancelled' })
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true, error_code: 'tool.cancelled' })
    expect(done.pendingInput).toEqual([])
    await runtime.close()
  })

  it('adopts the child a crash left between its insert and the parent’s subrun.started, never starting a second', async () => {
    // What a runtime killed right after inserting the child leaves: the parent running in its tool phase, the child queued, both unowned.
    const store = memoryStore()
    await store.open()
    const session = makeSession({ agent: null })
    await store.insertSession(session)
    const parent = makeRun(session, { personaId: 'lead@1', input: 'ask: adopt', status: 'running', startedAt: iso(1) })
    const event = (seq: number, type: RunEvent['type'], data: unknown) => ({ runId: parent.id, sessionId: session.id, seq, type, data, createdAt: iso(seq) }) as RunEvent
    const call = { id: 'call_1', name: 'researcher', arguments: JSON.stringify({ input: 'adopt' }) }
    await store.commit({
      insertRun: { ...parent, status: 'queued', startedAt: null },
      run: { id: parent.id, patch: { status: 'running', startedAt: iso(1) } },
      events: [
        event(1, 'run.started', { persona_id: 'lead@1', route_id: 'default', model: 'test-model', model_provider: 'scripted', history_run_ids: [] }),
        event(2, 'message.completed', { role: 'assistant', content: '', tool_calls: [call], usage: { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0 } }),
        event(3, 'tool.call', { tool_call_id: 'call_1', name: 'researcher', arguments: { input: 'adopt' }, requires_confirmation: false }),
      ],
    })
    const orphan = makeChildRun(parent, 'call_1', { personaId: 'researcher@1', input: 'adopt' })
    await store.commit({ insertRun: orphan })
    const { runtime } = await open({ store })
    const done = await runtime.waitForRun(parent.id)
    expect(done).toMatchObject({ status: 'completed', content: 'Lead got: Found: adopt' })
    expect((await runtime.listRuns({ parentRunId: parent.id })).map((run) => [run.id, run.status])).toEqual([[orphan.id, 'completed']])
    const events = await collect(runtime.runEvents(parent.id))
    expect(events.filter((found) => found.type === 'subrun.started').map((found) => found.data)).toEqual([expect.objectContaining({ child_run_id: orphan.id, tool_call_id: 'call_1' })])
    expect(events.some((found) => found.type === 'tool.result' && found.data.is_error)).toBe(false)
    await runtime.close()
  })

  it('refuses an agent tool naming an agent that is not defined', async () => {
    await expect(
      Runtime.open({ store: memoryStore(), providers: { scripted: scriptedModel([]) }, routes: { default: { provider: 'scripted' } }, agents: [{ key: 'lonely', version: 1, tools: [agentTool('nobody@1')] }] }),
    ).rejects.toMatchObject({ code: 'not_found.agent' })
    expect(() => agentTool('bad name')).toThrow(/key@version/)
    expect(() => agentTool('researcher@1', { context: { recentTurns: 0 } })).toThrow(/recentTurns/)
  })
})
