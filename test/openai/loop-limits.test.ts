/**
 * Tool timeouts and run limits through the real `openai` client against the
 * local OpenAI-wire server: a tool that hangs past its `timeoutMs`, and each
 * of `maxTotalTokens`, `maxCostUsd` and `maxDurationMs` crossed.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { openaiProvider } from '../../adapters/openai/index.js'
import { Runtime, silentLogger, tool, type AgentDefinition, type RunEvent } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import { useFakeOpenAIServer } from './use-fake-server.js'
import { toChatReply } from './wire-script.js'

const server = useFakeOpenAIServer({ quiet: true })

const hang = tool({
  name: 'hang',
  input: z.object({}),
  timeoutMs: 50,
  execute: (_input, context) => new Promise((resolve) => context.signal.addEventListener('abort', () => resolve('too late'))),
})

function open(agent: Partial<AgentDefinition> = {}): Promise<Runtime> {
  return Runtime.open({
    logger: silentLogger,
    providers: { wire: openaiProvider({ apiKey: 'sk-test', baseURL: server.baseURL }) },
    routes: { default: { provider: 'wire', model: 'gpt-4o-mini', retry: { maxAttempts: 1 }, pricing: { inputPerMillion: 2, outputPerMillion: 2 } } },
    agents: [{ key: 'worker', version: 1, tools: [hang], ...agent }],
  })
}

const usage = (inputTokens: number) => ({ usage: { inputTokens, outputTokens: 0 } })

describe('tool timeouts and limits over the wire', () => {
  it('gives the model tool.timeout for a tool that hangs past its timeoutMs, and the run goes on', async () => {
    server.enqueue(toChatReply([...callTools({ name: 'hang', arguments: {} }), usage(10)]), toChatReply([...reply('It timed out.'), usage(10)]))
    const runtime = await open()
    const run = await runtime.createRun({ input: 'go' })
    expect(await run.result()).toMatchObject({ status: 'completed', content: 'It timed out.' })
    const result = (await collect(runtime.runEvents(run.id))).find((event) => event.type === 'tool.result') as Extract<RunEvent, { type: 'tool.result' }>
    expect(result.data).toMatchObject({ name: 'hang', is_error: true, error_code: 'tool.timeout' })
    // The model was sent the error as the tool's result.
    const sent = server.requests[1]?.body.messages.find((message: { role: string }) => message.role === 'tool')
    expect(sent.content).toBe('hang did not finish within 50 ms')
    await runtime.close()
  })

  it('fails a run past maxTotalTokens and one past maxCostUsd after the turn that crossed it', async () => {
    const runtime = await open({ limits: { maxTotalTokens: 1500 } })
    server.enqueue(toChatReply([...callTools({ name: 'hang', arguments: {} }), usage(1000)]), toChatReply([...reply('more'), usage(1000)]))
    const tokens = await (await runtime.createRun({ input: 'go' })).result()
    expect(tokens).toMatchObject({ status: 'failed', error: { code: 'run.limit_exceeded', details: { limit: 'maxTotalTokens', max: 1500, used: 2000 } } })
    server.enqueue(toChatReply([...reply('pricey'), usage(1_000_000)]))
    const cost = await (await runtime.createRun({ input: 'go', limits: { maxCostUsd: 1, maxTotalTokens: 10_000_000 } })).result()
    expect(cost).toMatchObject({ status: 'failed', content: 'pricey', error: { code: 'run.limit_exceeded', details: { limit: 'maxCostUsd', max: 1, used: 2 } } })
    await runtime.close()
  })

  it('aborts a stream past maxDurationMs: the client closes its connection and the partial text is kept', async () => {
    const head = { id: 'chatcmpl-slow', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini' }
    const chunk = (content: string) => ({ data: { ...head, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }] } })
    server.enqueue({ stream: [chunk('so far'), { delay: 10_000 }, chunk(' never')] })
    const runtime = await open({ limits: { maxDurationMs: 200 } })
    const done = await (await runtime.createRun({ input: 'go' })).result()
    expect(done).toMatchObject({ status: 'failed', content: 'so far', error: { code: 'run.limit_exceeded', details: { limit: 'maxDurationMs', max: 200 } } })
    await server.waitForClientClose(5_000)
    await runtime.close()
  })
})
