import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { memoryStore, Runtime, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { collect, openRuntime } from '../helpers.js'

const sent: string[] = []
const sendEmail = tool({
  name: 'send_email',
  input: z.object({ to: z.string() }),
  needsConfirmation: true,
  execute: ({ to }) => {
    sent.push(to)
    return { sent: true, to }
  },
})
const wipe = tool({
  name: 'wipe',
  input: z.object({ everything: z.boolean() }),
  needsConfirmation: ({ everything }) => everything,
  execute: ({ everything }) => (everything ? 'wiped all' : 'wiped some'),
})

async function waitFor(runtime: Runtime, runId: string, type: RunEvent['type']): Promise<RunEvent> {
  for await (const event of runtime.runEvents(runId)) if (event.type === type) return event
  throw new Error(`no ${type}`)
}

describe('waiting for input', () => {
  it('pauses on a tool that needs confirmation and continues after approval', async () => {
    const { runtime } = await openRuntime([callTools({ name: 'send_email', arguments: { to: 'a@x.io' }, id: 'c1' }), reply('Sent.')], {
      agent: { tools: [sendEmail] },
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'mail a' })
    const waiting = await waitFor(runtime, run.id, 'run.waiting_for_input')
    expect(waiting.data).toEqual({
      requests: [{ kind: 'tool_confirmation', tool_call_id: 'c1', tool: 'send_email', arguments: { to: 'a@x.io' }, prompt: expect.any(String) }],
    })
    const record = await runtime.getRun(run.id)
    expect(record.status).toBe('waiting_for_input')
    expect(record.pendingInput).toHaveLength(1)
    expect(sent).not.toContain('a@x.io')

    await runtime.submitInput(run.id, { content: 'yes' })
    expect((await runtime.getRun(run.id)).status).not.toBe('waiting_for_input')
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Sent.', pendingInput: [] })
    expect(sent).toContain('a@x.io')
    const events = await collect(run.events())
    expect(events.find((event) => event.type === 'run.input_received')?.data).toEqual({ tool_call_id: 'c1', approved: true, content: 'yes' })
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ output: { sent: true, to: 'a@x.io' }, is_error: false })
    await runtime.close()
  })

  it('turns a denial into a tool.denied result with the reason, and the model continues', async () => {
    const { runtime, model } = await openRuntime([callTools({ name: 'send_email', arguments: { to: 'b@x.io' } }), reply('Not sent.')], {
      agent: { tools: [sendEmail] },
    })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'mail b' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    await runtime.submitInput(run.id, { content: 'not today' })
    const done = await run.result()
    expect(done.status).toBe('completed')
    const events = await collect(run.events())
    expect(events.find((event) => event.type === 'run.input_received')?.data).toMatchObject({ approved: false, content: 'not today' })
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true, error_code: 'tool.denied' })
    expect(String(model.requests[1]?.messages.find((message) => message.role === 'tool')?.content)).toContain('not today')
    expect(sent).not.toContain('b@x.io')
    await runtime.close()
  })

  it('approved: false denies whatever the content says', async () => {
    const { runtime } = await openRuntime([callTools({ name: 'send_email', arguments: { to: 'c@x.io' } }), reply('ok')], { agent: { tools: [sendEmail] } })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    await runtime.submitInput(run.id, { content: 'yes', approved: false })
    await run.result()
    expect(sent).not.toContain('c@x.io')
    await runtime.close()
  })

  it('waits once for several confirmations and continues when every request is answered', async () => {
    const { runtime } = await openRuntime(
      [
        callTools(
          { name: 'send_email', arguments: { to: 'd@x.io' }, id: 'm1' },
          { name: 'wipe', arguments: { everything: false }, id: 'w0' },
          { name: 'wipe', arguments: { everything: true }, id: 'w1' },
        ),
        reply('done'),
      ],
      { agent: { tools: [sendEmail, wipe] } },
    )
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    const waiting = await waitFor(runtime, run.id, 'run.waiting_for_input')
    expect(waiting.type === 'run.waiting_for_input' && waiting.data.requests.map((request) => request.tool_call_id)).toEqual(['m1', 'w1'])
    // The call that needs no confirmation already ran.
    const early = await collect(runtime.runEvents(run.id, { signal: AbortSignal.timeout(50) }))
    expect(early.find((event) => event.type === 'tool.result')?.data).toMatchObject({ tool_call_id: 'w0', output: 'wiped some' })

    await runtime.submitInput(run.id, { content: 'APPROVE ', toolCallId: 'w1' })
    expect(await runtime.getRun(run.id)).toMatchObject({ status: 'waiting_for_input', pendingInput: [expect.objectContaining({ tool_call_id: 'm1' })] })
    // A call already answered is 409 (it was open: the loser of two racing answers), one never asked about 400.
    await expect(runtime.submitInput(run.id, { content: 'yes', toolCallId: 'w1' })).rejects.toMatchObject({ code: 'state.invalid', message: expect.stringContaining('already answered') })
    await expect(runtime.submitInput(run.id, { content: 'yes', toolCallId: 'nope' })).rejects.toMatchObject({ code: 'validation.invalid' })
    await runtime.submitInput(run.id, { content: 'no' })
    const done = await run.result()
    expect(done.status).toBe('completed')
    const events = await collect(run.events())
    expect(events.filter((event) => event.type === 'run.waiting_for_input')).toHaveLength(1)
    const results = Object.fromEntries(events.filter((event) => event.type === 'tool.result').map((event) => [event.data.tool_call_id, event.data]))
    expect(results.w1).toMatchObject({ output: 'wiped all', is_error: false })
    expect(results.m1).toMatchObject({ error_code: 'tool.denied' })
    await runtime.close()
  })

  it('gives its execution slot back while waiting', async () => {
    const { runtime } = await openRuntime(
      (request) => (request.messages.some((message) => message.content === 'confirm') && !request.messages.some((message) => message.role === 'tool')
        ? callTools({ name: 'send_email', arguments: { to: 'e@x.io' } })
        : reply('plain')),
      { agent: { tools: [sendEmail] }, concurrency: 1 },
    )
    const first = await runtime.createRun((await runtime.createSession()).id, { input: 'confirm' })
    await waitFor(runtime, first.id, 'run.waiting_for_input')
    const second = await runtime.createRun((await runtime.createSession()).id, { input: 'other' })
    expect((await second.result()).status).toBe('completed')
    expect((await runtime.getRun(first.id)).status).toBe('waiting_for_input')
    await runtime.cancelRun(first.id)
    await runtime.close()
  })

  it('rejects input to a run that is not waiting, oversized content and bad fields', async () => {
    const { runtime } = await openRuntime([callTools({ name: 'send_email', arguments: { to: 'f@x.io' } }), reply('ok')], { agent: { tools: [sendEmail] } })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    await waitFor(runtime, run.id, 'run.waiting_for_input')
    await expect(runtime.submitInput(run.id, { content: 'x'.repeat(32_769) })).rejects.toMatchObject({ code: 'validation.too_large' })
    await expect(runtime.submitInput(run.id, { content: 'é'.repeat(16_385) })).rejects.toMatchObject({ code: 'validation.too_large' })
    await expect(runtime.submitInput(run.id, { content: 1 as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.submitInput(run.id, { content: 'yes', approved: 'yes' as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.submitInput('run_nope', { content: 'yes' })).rejects.toMatchObject({ code: 'not_found.run' })
    expect((await runtime.getRun(run.id)).status).toBe('waiting_for_input')
    await runtime.submitInput(run.id, { content: 'x'.repeat(32_768), approved: true })
    await run.result()
    await expect(runtime.submitInput(run.id, { content: 'yes' })).rejects.toMatchObject({ code: 'state.invalid' })
    await runtime.close()
  })

  it('keeps a waiting run in the store: a new runtime on the same store answers it', async () => {
    const store = memoryStore()
    const options = {
      store,
      providers: { scripted: scriptedModel([callTools({ name: 'send_email', arguments: { to: 'g@x.io' }, id: 'g1' }), reply('Sent after restart')]) },
      routes: { default: { provider: 'scripted', model: 'm' } },
      agents: [{ key: 'mailer', version: 1, tools: [sendEmail] }],
    }
    const first = await Runtime.open(options)
    const session = await first.createSession()
    const run = await first.createRun(session.id, { input: 'mail g' })
    await waitFor(first, run.id, 'run.waiting_for_input')
    await first.close()

    const second = await Runtime.open(options)
    expect((await second.getRun(run.id)).status).toBe('waiting_for_input')
    await second.submitInput(run.id, { content: 'approve' })
    const done = await (await second.run(run.id)).result()
    expect(done).toMatchObject({ status: 'completed', content: 'Sent after restart' })
    const events = await collect(second.runEvents(run.id))
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    expect(sent).toContain('g@x.io')
    await second.close()
  })
})
