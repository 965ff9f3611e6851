import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { tool, type RunEvent } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { collect, deferred, openRuntime, sleep } from '../helpers.js'

async function until(events: AsyncIterable<RunEvent>, predicate: (event: RunEvent) => boolean): Promise<RunEvent> {
  for await (const event of events) if (predicate(event)) return event
  throw new Error('never happened')
}

describe('cancellation', () => {
  it('cancels while streaming: aborts the model, keeps partial content, commits run.cancelled before resolving', async () => {
    // The pause outlasts the test's timeout: cancel can only resolve by aborting the model, not by waiting for it.
    const { runtime } = await openRuntime(() => [{ text: 'partial ' }, { text: 'answer ' }, { delay: 600_000 }, { text: 'never' }])
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    await until(run.events(), (event) => event.type === 'message.delta' && event.data.content === 'answer ')
    await runtime.cancelRun(run.id, { reason: 'user pressed stop' })
    const record = await runtime.getRun(run.id)
    expect(record).toMatchObject({ status: 'cancelled', content: 'partial answer ' })
    expect(record.cancelledAt).not.toBeNull()
    const events = await collect(run.events())
    expect(events[events.length - 1]).toMatchObject({ type: 'run.cancelled', data: { reason: 'user pressed stop', content: 'partial answer ' } })
    await expect(runtime.cancelRun(run.id)).rejects.toMatchObject({ code: 'state.invalid' })
    await runtime.close()
  })

  it('cancels during a tool: the tool sees an aborted signal, its call gets a tool.cancelled result, its late result is dropped', async () => {
    const entered = deferred()
    let signalAborted = false
    const stubborn = tool({
      name: 'stubborn',
      input: z.object({}),
      execute: async (_args, context) => {
        entered.resolve()
        context.signal.addEventListener('abort', () => {
          signalAborted = true
        })
        await sleep(100) // ignores the signal on purpose
        return 'late result'
      },
    })
    const { runtime } = await openRuntime([callTools({ name: 'stubborn', arguments: {}, id: 's1' }), reply('never')], { agent: { tools: [stubborn] } })
    const session = await runtime.createSession()
    const run = await runtime.createRun(session.id, { input: 'x' })
    await entered.promise
    await runtime.cancelRun(run.id)
    expect(signalAborted).toBe(true)
    await sleep(150)
    const events = await collect(run.events())
    const results = events.filter((event) => event.type === 'tool.result')
    expect(results).toHaveLength(1)
    expect(results[0]?.data).toMatchObject({ tool_call_id: 's1', is_error: true, error_code: 'tool.cancelled' })
    expect(events[events.length - 1]?.type).toBe('run.cancelled')
    const record = await runtime.getRun(run.id)
    expect(record.messages.filter((message) => message.role === 'tool')).toHaveLength(1)
    await runtime.close()
  })

  it('cancels a run waiting for input and a queued run', async () => {
    const confirm = tool({ name: 'confirm_me', input: z.object({}), needsConfirmation: true, execute: () => 'ran' })
    const { runtime } = await openRuntime([callTools({ name: 'confirm_me', arguments: {}, id: 'k1' }), reply('ok')], { agent: { tools: [confirm] } })
    const session = await runtime.createSession()
    const first = await runtime.createRun(session.id, { input: 'one' })
    const second = await runtime.createRun(session.id, { input: 'two' })
    await until(first.events(), (event) => event.type === 'run.waiting_for_input')
    expect((await runtime.getRun(second.id)).status).toBe('queued')

    await runtime.cancelRun(second.id)
    expect(await runtime.getRun(second.id)).toMatchObject({ status: 'cancelled' })
    expect((await collect(second.events())).map((event) => event.type)).toEqual(['run.queued', 'run.cancelled'])

    await runtime.cancelRun(first.id)
    const events = await collect(first.events())
    expect(events.find((event) => event.type === 'tool.result')?.data).toMatchObject({ tool_call_id: 'k1', error_code: 'tool.cancelled' })
    expect(await runtime.getRun(first.id)).toMatchObject({ status: 'cancelled', pendingInput: [] })
    await expect(runtime.submitInput(first.id, { content: 'yes' })).rejects.toMatchObject({ code: 'state.invalid' })

    // The session is free again.
    const third = await runtime.createRun(session.id, { input: 'three', multitask: 'reject' })
    await runtime.cancelRun(third.id).catch(() => {})
    await runtime.close()
  })

  it('rejects cancelling an unknown run', async () => {
    const { runtime } = await openRuntime([reply('x')])
    await expect(runtime.cancelRun('run_missing')).rejects.toMatchObject({ code: 'not_found.run' })
    await runtime.close()
  })
})
