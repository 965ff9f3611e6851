/**
 * Child runs over HTTP, on the example server's agents and demo model:
 * `/tool researcher {"input": ...}` starts a child run of researcher@1; an
 * approval inside a child (a helper agent whose child asks to send an
 * email) is answered through the parent's input route.
 */
import { describe, expect, it } from 'vitest'
import { agentTool, Runtime } from 'hearth-runtime'
import { assistantAgent, researcherAgent, sendEmailTool } from '../../examples/support/demo-agent.js'
import { demoModel } from '../../examples/support/demo-model.js'
import { apiClient, readEvents, serveRuntime, startRun, useDemoServer, waitForRun } from './support.js'

describe('child runs over HTTP', () => {
  const demo = useDemoServer()

  it('a researcher call starts a child run: parent_run_id, ?parent_run_id= and the tree show it', async () => {
    const { api, url } = demo
    const { runId } = await startRun(api, '/tool researcher {"input":"How far is the moon?"}')
    const parent = await waitForRun(api, runId, (run) => run.status === 'completed')
    expect(parent).toMatchObject({ parent_run_id: null, content: 'researcher returned "You said: How far is the moon?"' })
    const events = await readEvents(url, runId)
    const started = events.find((event) => event.type === 'subrun.started')
    expect(started?.data).toMatchObject({ agent: 'researcher@1', input: 'How far is the moon?', tool_call_id: expect.any(String) })
    const childId = started.data.child_run_id as string
    const children = await api('GET', `/v1/runs?parent_run_id=${runId}`)
    expect(children.body.map((run: { run_id: string }) => run.run_id)).toEqual([childId])
    const child = await api('GET', `/v1/runs/${childId}`)
    expect(child.body).toMatchObject({ parent_run_id: runId, persona_id: 'researcher@1', status: 'completed', content: 'You said: How far is the moon?' })
    const tree = await api('GET', `/v1/runs/${runId}/tree`)
    expect(tree.status).toBe(200)
    expect(tree.body).toMatchObject({ run: { run_id: runId, parent_run_id: null }, children: [{ run: { run_id: childId, parent_run_id: runId }, children: [] }] })
    expect((await api('GET', `/v1/runs/${runId}/tree?depth=0`)).body).toMatchObject({ code: 'validation.invalid' })
    expect((await api('GET', '/v1/runs/run_missing/tree')).status).toBe(404)
    expect((await api('POST', `/v1/runs/${runId}/tree`)).status).toBe(405)
    // The child's usage counts in the parent's.
    expect(parent.total_input_tokens).toBeGreaterThan(child.body.total_input_tokens)
  })

  it('the panel team: a team session, its members as child runs, listed by the Agno view under type=team', async () => {
    const { api } = demo
    const created = await api('POST', '/v1/threads', { persona_id: 'panel' })
    expect(created.body.type).toBe('team')
    const { runId } = await startRun(api, 'Should we ship on Friday?', created.body.id)
    const done = await waitForRun(api, runId, (run) => run.status === 'completed')
    expect(done.content).toBe('researcher returned "You said: Should we ship on Friday?"\ncritic returned "You said: Should we ship on Friday?"')
    const tree = (await api('GET', `/v1/runs/${runId}/tree`)).body
    expect(tree.children.map((child: { run: { persona_id: string } }) => child.run.persona_id)).toEqual(['researcher@1', 'critic@1'])
    const agno = await api('GET', `/sessions/${created.body.id}/runs?type=team`)
    expect(agno.status).toBe(200)
    expect(agno.body.map((run: { run_id: string; parent_run_id: string | null }) => [run.run_id === runId, run.parent_run_id])).toEqual([
      [true, null],
      [false, runId],
      [false, runId],
    ])
    expect((await api('GET', `/sessions/${created.body.id}/runs?type=agent`)).body).toEqual([])
  })

  it('a slow child streams on its own log while the parent waits for it', async () => {
    const { api, url } = demo
    const { runId } = await startRun(api, '/tool researcher {"input":"/slow 20 5"}')
    await waitForRun(api, runId, (run) => run.status === 'completed')
    const [child] = (await api('GET', `/v1/runs?parent_run_id=${runId}`)).body
    const childEvents = await readEvents(url, child.run_id)
    expect(childEvents.filter((event) => event.type === 'message.delta')).toHaveLength(20)
    expect(childEvents.map((event) => event.seq)).toEqual(childEvents.map((_: unknown, index: number) => index + 1))
  })
})

describe('an approval inside a child, answered over HTTP', () => {
  it('puts the parent in waiting_for_input with the child’s request, and input sent to the parent lands in the child', async () => {
    // A mailer agent (send_email, which asks first) that the assistant calls as a tool.
    const mailer = { key: 'mailer', version: 1, instructions: 'You send mail.', tools: [sendEmailTool] }
    const runtime = await Runtime.open({
      providers: { demo: demoModel() },
      routes: { default: { provider: 'demo', model: 'demo' } },
      agents: [{ ...assistantAgent, version: 2, tools: [...(assistantAgent.tools ?? []), agentTool('mailer@1')] }, researcherAgent, mailer],
    })
    const server = await serveRuntime(runtime)
    try {
      const api = apiClient(server.url)
      const email = JSON.stringify({ to: 'a@example.com', subject: 'Hi', body: 'Hello' })
      const { runId } = await startRun(api, `/tool mailer ${JSON.stringify({ input: `/tool send_email ${email}` })}`)
      const waiting = await waitForRun(api, runId, (run) => run.status === 'waiting_for_input')
      const [child] = (await api('GET', `/v1/runs?parent_run_id=${runId}`)).body
      expect(waiting.pending_input).toEqual([expect.objectContaining({ tool: 'send_email', run_id: child.run_id })])
      expect((await api('GET', `/v1/runs/${child.run_id}`)).body.status).toBe('waiting_for_input')
      const answered = await api('POST', `/v1/runs/${runId}/input`, { content: 'yes', tool_call_id: waiting.pending_input[0].tool_call_id })
      expect(answered).toMatchObject({ status: 200, body: { ok: true } })
      const done = await waitForRun(api, runId, (run) => run.status === 'completed')
      expect(done.content).toBe('mailer returned "send_email returned {\\"sent\\":true,\\"to\\":\\"a@example.com\\"}"')
      const childEvents = await readEvents(server.url, child.run_id)
      expect(childEvents.find((event) => event.type === 'run.input_received')?.data).toMatchObject({ approved: true, content: 'yes' })
      const parentEvents = await readEvents(server.url, runId)
      expect(parentEvents.filter((event) => event.type === 'run.input_received').map((event) => event.data)).toEqual([expect.objectContaining({ run_id: child.run_id, approved: true })])
      // Answering again: the request is closed, in the parent and in the child.
      expect((await api('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).status).toBe(409)
    } finally {
      await server.close()
      await runtime.close()
    }
  })
})
