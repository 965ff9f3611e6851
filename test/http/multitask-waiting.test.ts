import { describe, expect, it } from 'vitest'
import { readEvents, startRun, useDemoServer, waitForRun } from './support.js'

const email = '/tool send_email {"to":"a@example.com","subject":"Hi","body":"Hello"}'

/** A thread whose active run waits for the user to confirm an email. */
async function waitingThread(api: ReturnType<typeof useDemoServer>['api']): Promise<{ threadId: string; runId: string }> {
  const started = await startRun(api, email)
  await waitForRun(api, started.runId, (run) => run.status === 'waiting_for_input')
  return started
}

describe('a run waiting for input still holds its thread', () => {
  const demo = useDemoServer()

  it('multitask reject answers 409 state.thread_busy and leaves the waiting run as it was', async () => {
    const { api, runtime } = demo
    const { threadId, runId } = await waitingThread(api)
    const refused = await api('POST', `/v1/threads/${threadId}/runs`, { input: 'next', multitask: 'reject' })
    expect(refused).toMatchObject({ status: 409, body: { code: 'state.thread_busy' } })
    await expect(runtime.createRun(threadId, { input: 'next', multitask: 'reject' })).rejects.toMatchObject({ code: 'state.thread_busy' })
    expect((await api('GET', `/v1/threads/${threadId}/runs`)).body).toHaveLength(1)
    expect((await api('GET', `/v1/runs/${runId}`)).body.status).toBe('waiting_for_input')
  })

  it('multitask interrupt cancels the waiting run, closes its open call, and runs the new one', async () => {
    const { api } = demo
    const { threadId, runId } = await waitingThread(api)
    const created = await api('POST', `/v1/threads/${threadId}/runs`, { input: 'instead', multitask: 'interrupt' })
    expect(created.status).toBe(201)
    const replaced = await readEvents(demo.url, runId)
    expect(replaced.at(-1)).toMatchObject({ type: 'run.cancelled', data: { reason: 'Interrupted by a newer run' } })
    expect(replaced.find((event) => event.type === 'tool.result')?.data).toMatchObject({ is_error: true, error_code: 'tool.cancelled' })
    expect(replaced.some((event) => event.type === 'run.input_received')).toBe(false)
    const next = await waitForRun(api, created.body.run_id, (run) => run.status === 'completed')
    expect(next.content).toBe('You said: instead')
  })

  it('the TypeScript API interrupts a waiting run the same way', async () => {
    const { api, runtime } = demo
    const { threadId, runId } = await waitingThread(api)
    const next = await runtime.createRun(threadId, { input: 'typed', multitask: 'interrupt' })
    expect(await runtime.getRun(runId)).toMatchObject({ status: 'cancelled' })
    expect(await next.result()).toMatchObject({ status: 'completed', content: 'You said: typed' })
  })
})
