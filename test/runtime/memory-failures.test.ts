/**
 * What a failed memory extraction leaves: its tokens count in the run's
 * usage, and a run that fails first records the extraction as abandoned,
 * saying why.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, type ModelRequest, type RunEvent } from '../../src/index.js'
import { reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

async function run(extraction: ScriptedTurn, answer: ScriptedTurn) {
  const model = scriptedModel((request: ModelRequest) => (request.responseFormat?.name === 'memory_updates' ? extraction : answer), { mode: 'sequential' })
  const runtime = await Runtime.open({
    store: memoryStore(),
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm', retry: { maxAttempts: 1 } } },
    agents: [{ key: 'assistant', version: 1, memory: 'auto' }],
  })
  const session = await runtime.createSession({ agent: 'assistant', userId: 'ann' })
  const handle = await runtime.createRun(session.id, { input: 'I live in Lisbon' })
  const events = await collect(handle.events())
  const done = await handle.result()
  await runtime.close()
  return { done, failed: events.find((event) => event.type === 'memory.update_failed') as Extract<RunEvent, { type: 'memory.update_failed' }> | undefined }
}

describe('a failed memory extraction', () => {
  it('counts its tokens in the run’s usage', async () => {
    const { done, failed } = await run([...reply('not JSON'), { usage: { inputTokens: 70, outputTokens: 30 } }], [...reply('ok'), { usage: { inputTokens: 5, outputTokens: 1 } }])
    expect(failed?.data).toMatchObject({ error: { code: 'memory.invalid' }, usage: { input_tokens: 70, output_tokens: 30 } })
    expect(done.metrics).toMatchObject({ inputTokens: 75, outputTokens: 31 })
  })

  it('is recorded as abandoned, with why, when the run fails first', async () => {
    const { done, failed } = await run([{ delay: 600_000 }, { text: '{}' }], [{ error: { code: 'provider.bad_request', message: 'refused' } }])
    expect(done.status).toBe('failed')
    expect(failed?.data.error).toEqual({ code: 'memory.abandoned', message: 'The run failed before its memory extraction ended' })
  })
})
