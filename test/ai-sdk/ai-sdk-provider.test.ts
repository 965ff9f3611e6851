/**
 * hearth-runtime/ai-sdk with ai@6's MockLanguageModelV3 and a hand-built v2
 * model: the prompt and options a model is called with, a run with a tool
 * call, errors with their waits, abort, calls the provider ran itself, the
 * v4 refusal, and that the subpath loads no package of its own.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MockLanguageModelV3 } from 'ai/test'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { aiSdkProvider, type LanguageModel } from '../../adapters/ai-sdk/index.js'
import { Runtime, silentLogger, tool, type ModelRequest } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { callError, handmadeV2, mockV3, type StreamProbe } from './scripted-models.js'

const request: ModelRequest = {
  model: 'ignored',
  tools: [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
  responseFormat: { name: 'output', schema: { type: 'object' } },
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Find it' },
    { role: 'assistant', content: 'Looking.', reasoningContent: 'Two lookups.', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"q":"a"}' }, { id: 'c2', name: 'lookup', arguments: 'oops' }] },
    { role: 'tool', toolCallId: 'c1', name: 'lookup', content: 'found a' },
    { role: 'tool', toolCallId: 'c2', name: 'lookup', content: 'bad arguments', isError: true },
  ],
}

async function drain(provider: ReturnType<typeof aiSdkProvider>, signal = new AbortController().signal): Promise<unknown[]> {
  const chunks: unknown[] = []
  for await (const chunk of provider.stream(request, { signal })) chunks.push(chunk)
  return chunks
}

describe('aiSdkProvider', () => {
  it('calls the model with the prompt, tools, answer format and options', async () => {
    const model = mockV3(reply('ok'))
    const provider = aiSdkProvider(model, { maxOutputTokens: 500, providerOptions: { google: { thinkingConfig: { thinkingBudget: 0 } } } })
    await drain(provider)
    const call = model.doStreamCalls[0]
    expect(call?.prompt).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Find it' }] },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'Two lookups.' },
          { type: 'text', text: 'Looking.' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { q: 'a' } },
          { type: 'tool-call', toolCallId: 'c2', toolName: 'lookup', input: { _raw: 'oops' } },
        ],
      },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'c1', toolName: 'lookup', output: { type: 'text', value: 'found a' } },
          { type: 'tool-result', toolCallId: 'c2', toolName: 'lookup', output: { type: 'error-text', value: 'bad arguments' } },
        ],
      },
    ])
    expect(call).toMatchObject({
      tools: [{ type: 'function', name: 'lookup', description: 'Looks up', inputSchema: request.tools[0]?.parameters }],
      responseFormat: { type: 'json', schema: { type: 'object' }, name: 'output' },
      maxOutputTokens: 500,
      providerOptions: { google: { thinkingConfig: { thinkingBudget: 0 } } },
    })
    expect(call?.abortSignal).toBeInstanceOf(AbortSignal)
    expect(provider).toMatchObject({ name: 'mock.v3', model: 'mock-model' })
  })

  it('runs a tool call to its answer in a runtime, the route naming no model', async () => {
    let turn = 0
    const model = new MockLanguageModelV3({
      provider: 'mock.v3',
      modelId: 'mock-model',
      doStream: async (options) => {
        const script = turn++ === 0 ? callTools({ name: 'add', arguments: { a: 2, b: 3 } }) : reply(`sum: ${JSON.stringify(options.prompt.at(-1))}`)
        return { stream: (await mockV3(script).doStream(options)).stream }
      },
    })
    const add = tool({ name: 'add', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b })
    const runtime = await Runtime.open({ logger: silentLogger, model: aiSdkProvider(model, { pricing: { inputPerMillion: 1, outputPerMillion: 1 } }), agents: [{ key: 'a', version: 1, tools: [add] }] })
    const done = await (await runtime.createRun({ input: 'add 2 and 3' })).result()
    expect(done.status).toBe('completed')
    expect(done.content).toContain('"output":{"type":"text","value":"5"}')
    expect(done).toMatchObject({ model: 'mock-model', modelProvider: 'mock.v3' })
    await runtime.close()
  })

  it('carries a 429’s Retry-After, maps a failed connection, and passes over calls the provider ran itself', async () => {
    const limited = { ...handmadeV2(reply('x')), doStream: async () => Promise.reject(callError('provider.rate_limited', { 'retry-after': '3' })) }
    await expect(drain(aiSdkProvider(limited))).rejects.toMatchObject({ code: 'provider.rate_limited', status: 429, retryAfterMs: 3000 })
    const refused = { ...handmadeV2(reply('x')), doStream: async () => Promise.reject(new TypeError('fetch failed')) }
    await expect(drain(aiSdkProvider(refused))).rejects.toMatchObject({ code: 'provider.unavailable' })
    const hosted = {
      ...handmadeV2(reply('x')),
      doStream: async () => ({
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: 'tool-call', toolCallId: 'ws', toolName: 'web_search', input: '{}', providerExecuted: true })
            controller.enqueue({ type: 'text-delta', id: 't', delta: 'Searched.' })
            controller.enqueue({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 1 } })
            controller.close()
          },
        }),
      }),
    }
    expect(await drain(aiSdkProvider(hosted))).toEqual([
      { type: 'text-delta', text: 'Searched.' },
      { type: 'usage', inputTokens: 3, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('cancels the model’s stream when the signal aborts', async () => {
    const probe: StreamProbe = { cancelled: false }
    const controller = new AbortController()
    const provider = aiSdkProvider(mockV3([{ text: 'Before' }, { delay: 60_000 }, { text: 'after' }], probe))
    const reading = drain(provider, controller.signal)
    setTimeout(() => controller.abort(new Error('stop')), 20)
    await expect(reading).rejects.toThrow('stop')
    expect(probe.cancelled).toBe(true)
  })

  it('refuses a specification v4 model naming Node 22, and what is not a model', () => {
    const v4 = { ...handmadeV2(reply('x')), specificationVersion: 'v4' }
    expect(() => aiSdkProvider(v4 as unknown as LanguageModel)).toThrow(/specification v4 \(ai 7\), which needs Node 22/)
    expect(() => aiSdkProvider({ ...handmadeV2(reply('x')), specificationVersion: 'v1' } as unknown as LanguageModel)).toThrow(/specification v2 or v3, got specification `v1`/)
    expect(() => aiSdkProvider({} as LanguageModel)).toThrow(/an AI SDK language model/)
    expect(() => aiSdkProvider(handmadeV2(reply('x')), { contextWindow: 0 })).toThrow(/contextWindow/)
  })

  it('imports only its own files and the core: no package of its own to load', () => {
    const folder = resolve(dirname(fileURLToPath(import.meta.url)), '../../adapters/ai-sdk')
    for (const file of readdirSync(folder)) {
      const specifiers = [...readFileSync(join(folder, file), 'utf8').matchAll(/^(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map((match) => match[1] as string)
      for (const specifier of specifiers) expect(specifier.startsWith('./') || specifier.startsWith('../../src/'), `${file} imports ${specifier}`).toBe(true)
    }
  })
})
