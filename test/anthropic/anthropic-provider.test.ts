/**
 * hearth-runtime/anthropic through the real `@anthropic-ai/sdk` client against
 * a local server speaking Anthropic's streaming wire format: the request it
 * sends, runs with fragmented parallel tool calls, thinking with signatures
 * sent back across a tool turn and across a restart, cache usage and its
 * cost, each error, abort, options and prices.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { anthropicProvider, anthropicPrices } from '../../adapters/anthropic/index.js'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, silentLogger, tool, type ModelRequest } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { tempDirectory } from '../sqlite/temp-dir.js'
import { useFakeOpenAIServer } from '../openai/use-fake-server.js'
import { toAnthropicReply } from './wire-script.js'

const server = useFakeOpenAIServer()
const baseURL = (): string => server.baseURL.replace(/\/v1$/, '')

const provider = (options: Parameters<typeof anthropicProvider>[0] = {}) => anthropicProvider({ apiKey: 'sk-ant-test', baseURL: baseURL(), timeout: 2_000, ...options })

async function drain(request: ModelRequest, options: Parameters<typeof anthropicProvider>[0] = {}): Promise<unknown[]> {
  const chunks: unknown[] = []
  for await (const chunk of provider(options).stream(request, { signal: new AbortController().signal })) chunks.push(chunk)
  return chunks
}

const weather = { name: 'get_weather', description: 'The weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }

describe('the request', () => {
  it('sends system on top, merges same-role messages, sends a turn’s tool results in one user message in call order, and the thinking blocks first', async () => {
    server.enqueue(toAnthropicReply(reply('ok')))
    await drain(
      {
        model: 'claude-sonnet-4-5',
        tools: [weather],
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'system', content: 'Summary of the earlier conversation:\nThe user is Ada.', fromHistory: true },
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Looking.',
            reasoningBlocks: [
              { type: 'thinking', thinking: 'Two cities.', signature: 'sig-A' },
              { type: 'redacted_thinking', data: 'cmVkYWN0ZWQ=' },
            ],
            toolCalls: [
              { id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
              { id: 'toolu_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
            ],
          },
          { role: 'tool', toolCallId: 'toolu_1', name: 'get_weather', content: 'sunny' },
          { role: 'tool', toolCallId: 'toolu_2', name: 'get_weather', content: 'failed', isError: true },
          { role: 'user', content: 'Thanks.' },
        ],
      },
      { maxTokens: 4000, thinking: { budgetTokens: 2048 } },
    )
    const sent = server.requests[0] as { path: string; headers: Record<string, string>; body: Record<string, unknown> }
    expect(sent.path).toBe('/v1/messages')
    // The SDK sends the key (as a bearer token in its 1.x line) and the API version.
    expect(JSON.stringify(sent.headers)).toContain('sk-ant-test')
    expect(sent.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(sent.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      max_tokens: 4000,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      system: 'Be terse.\n\nSummary of the earlier conversation:\nThe user is Ada.',
      tools: [{ name: 'get_weather', description: 'The weather', input_schema: weather.parameters }],
    })
    expect(sent.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Two cities.', signature: 'sig-A' },
          { type: 'redacted_thinking', data: 'cmVkYWN0ZWQ=' },
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'failed', is_error: true },
          { type: 'text', text: 'Thanks.' },
        ],
      },
    ])
  })

  it('with promptCaching, marks the system prompt, the last tool and the last message as cache breakpoints', async () => {
    server.enqueue(toAnthropicReply(reply('ok')), toAnthropicReply(reply('ok')))
    const conversation: ModelRequest = { model: 'claude-sonnet-4-5', tools: [weather, { ...weather, name: 'get_time' }], messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }] }
    await drain(conversation, { promptCaching: true })
    const body = server.requests[0]?.body
    expect(body.system).toEqual([{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }])
    expect(body.tools.map((tool: { cache_control?: unknown }) => tool.cache_control)).toEqual([undefined, { type: 'ephemeral' }])
    expect(body.messages.at(-1).content.at(-1)).toEqual({ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } })
    await drain(conversation)
    expect(JSON.stringify(server.requests[1]?.body)).not.toContain('cache_control')
    expect(() => anthropicProvider({ promptCaching: 'yes' as never })).toThrow(/promptCaching/)
  })

  it('defaults max_tokens to 8192, puts an answer schema in the system prompt, and keeps malformed arguments', async () => {
    server.enqueue(toAnthropicReply(reply('{}')))
    await drain({
      model: 'claude-haiku-4-5',
      tools: [],
      responseFormat: { name: 'output', schema: { type: 'object', properties: { n: { type: 'number' } } } },
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'toolu_x', name: 'f', arguments: '{oops' }] },
        { role: 'tool', toolCallId: 'toolu_x', name: 'f', content: 'bad arguments' },
      ],
    })
    const body = server.requests[0]?.body
    expect(body.max_tokens).toBe(8192)
    expect(body.system).toContain('"properties":{"n":{"type":"number"}}')
    expect(body.messages[1].content).toEqual([{ type: 'tool_use', id: 'toolu_x', name: 'f', input: { _raw: '{oops' } }])
  })
})

const lookup = tool({ name: 'lookup', input: z.object({ city: z.string() }), execute: ({ city }) => `${city}: 20C` })
const charge = tool({ name: 'charge', input: z.object({ amount: z.number() }), needsConfirmation: true, execute: ({ amount }) => `charged ${amount}` })

describe('runs on Claude', () => {
  it('runs fragmented parallel tool calls, sends the signed thinking back with them, and counts cache reads and writes', async () => {
    server.enqueue(
      toAnthropicReply([
        { reasoning: 'Two lookups, ' },
        { reasoning: 'at once.', signature: 'EqQBCkgIARABGAIiQ' },
        ...callTools({ id: 'toolu_a', name: 'lookup', arguments: { city: 'Paris' } }, { id: 'toolu_b', name: 'lookup', arguments: { city: 'Rome' } }),
        { usage: { inputTokens: 3000, outputTokens: 100, cachedInputTokens: 1000, cacheWriteInputTokens: 1500 } },
      ]),
      toAnthropicReply([...reply('Paris 20C, Rome 20C.'), { usage: { inputTokens: 3200, outputTokens: 20, cachedInputTokens: 2500 } }]),
    )
    const runtime = await Runtime.open({
      logger: silentLogger,
      providers: { claude: provider() },
      routes: { default: { provider: 'claude', model: 'claude-sonnet-4-5' } },
      agents: [{ key: 'a', version: 1, tools: [lookup] }],
    })
    const done = await (await runtime.createRun({ input: 'Paris and Rome?' })).result()
    expect(done).toMatchObject({ status: 'completed', content: 'Paris 20C, Rome 20C.', reasoningContent: 'Two lookups, at once.' })
    expect(done.messages.filter((message) => message.role === 'tool').map((message) => message.content)).toEqual(['Paris: 20C', 'Rome: 20C'])
    const second = server.requests[1]?.body
    expect(second.messages[1].content.slice(0, 1)).toEqual([{ type: 'thinking', thinking: 'Two lookups, at once.', signature: 'EqQBCkgIARABGAIiQ' }])
    expect(second.messages[2].content.map((block: { tool_use_id: string }) => block.tool_use_id)).toEqual(['toolu_a', 'toolu_b'])
    // Input counts cache reads and writes; cached input is the reads; writes are priced at 3.75, reads 0.3, the rest 3 per million.
    expect(done.metrics).toMatchObject({ inputTokens: 6200, cachedInputTokens: 3500, outputTokens: 120 })
    const expected = (500 * 3 + 1000 * 0.3 + 1500 * 3.75 + 100 * 15 + 700 * 3 + 2500 * 0.3 + 20 * 15) / 1_000_000
    expect(done.totalCostUsd).toBeCloseTo(expected, 10)
    await runtime.close()
  })

  it('sends a turn’s thinking blocks again after a restart, as the run recorded them', async () => {
    const temp = await tempDirectory()
    try {
      const path = temp.file('claude.db')
      const open = () =>
        Runtime.open({
          logger: silentLogger,
          store: sqliteStore({ path }),
          providers: { claude: provider() },
          routes: { default: { provider: 'claude', model: 'claude-opus-4-5' } },
          agents: [{ key: 'a', version: 1, tools: [charge] }],
        })
      server.enqueue(toAnthropicReply([{ reasoning: 'Needs approval.', signature: 'sig-R' }, { redactedReasoning: 'b3BhcXVl' }, ...callTools({ id: 'toolu_c', name: 'charge', arguments: { amount: 5 } })]))
      const first = await open()
      const run = await first.createRun({ input: 'Charge 5' })
      for await (const event of run.events()) if (event.type === 'run.waiting_for_input') break
      await first.close()

      server.enqueue(toAnthropicReply(reply('Charged.')))
      const second = await open()
      await second.submitInput(run.id, { approved: true })
      expect(await second.waitForRun(run.id)).toMatchObject({ status: 'completed', content: 'Charged.' })
      expect(server.requests[1]?.body.messages[1].content).toEqual([
        { type: 'thinking', thinking: 'Needs approval.', signature: 'sig-R' },
        { type: 'redacted_thinking', data: 'b3BhcXVl' },
        { type: 'tool_use', id: 'toolu_c', name: 'charge', input: { amount: 5 } },
      ])
      await second.close()
    } finally {
      await temp.cleanup()
    }
  })
})

const request: ModelRequest = { model: 'claude-sonnet-4-5', tools: [], messages: [{ role: 'user', content: 'Hi' }] }

describe('errors', () => {
  it.each([
    [401, 'authentication_error', 'invalid x-api-key', 'provider.auth'],
    [403, 'permission_error', 'not allowed', 'provider.auth'],
    [400, 'invalid_request_error', 'messages: text content blocks must be non-empty', 'provider.bad_request'],
    [400, 'invalid_request_error', 'prompt is too long: 210432 tokens > 200000 maximum', 'provider.context_length'],
    [413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes', 'provider.context_length'],
    [429, 'rate_limit_error', 'slow down', 'provider.rate_limited'],
    [529, 'overloaded_error', 'Overloaded', 'provider.unavailable'],
    [500, 'api_error', 'Internal server error', 'provider.unavailable'],
  ])('maps HTTP %i %s to its code', async (status, type, message, code) => {
    server.enqueue({ status, headers: { 'retry-after': '7' }, body: { type: 'error', error: { type, message } } })
    const failure = await drain(request).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code, status, message: expect.stringContaining(message) })
    expect((failure as { retryAfterMs?: number }).retryAfterMs).toBe(7000)
  })

  it('maps an error event in the stream by its type, keeping what streamed before it', async () => {
    server.enqueue({ stream: [...(toAnthropicReply(reply('Part')) as { stream: object[] }).stream.slice(0, 4), { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }] } as never)
    const chunks: unknown[] = []
    const failure = await (async () => {
      for await (const chunk of provider().stream(request, { signal: new AbortController().signal })) chunks.push(chunk)
    })().catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'provider.unavailable', message: expect.stringContaining('Overloaded') })
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Part' }])
  })

  it('fails a stream that ends before message_stop with provider.unavailable, and one without a key with provider.auth', async () => {
    const whole = (toAnthropicReply(reply('cut short')) as { stream: object[] }).stream
    server.enqueue({ stream: whole.slice(0, -2) } as never)
    await expect(drain(request)).rejects.toMatchObject({ code: 'provider.unavailable', message: expect.stringContaining('message_stop') })
    const saved = process.env.ANTHROPIC_API_KEY
    delete process.env.ANTHROPIC_API_KEY
    try {
      const keyless = anthropicProvider({ baseURL: baseURL() })
      const reading = (async () => {
        for await (const _ of keyless.stream(request, { signal: new AbortController().signal })) void _
      })()
      await expect(reading).rejects.toMatchObject({ code: 'provider.auth' })
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved
    }
  })

  it('closes the HTTP stream when the run is cancelled', async () => {
    server.enqueue(toAnthropicReply([{ text: 'Start ' }, { delay: 60_000 }, { text: 'never' }]))
    const runtime = await Runtime.open({ logger: silentLogger, providers: { claude: provider() }, routes: { default: { provider: 'claude', model: 'claude-haiku-4-5' } } })
    const run = await runtime.createRun({ input: 'Go' })
    for await (const event of run.events()) if (event.type === 'message.delta') break
    await run.cancel()
    expect(await run.result()).toMatchObject({ status: 'cancelled', content: 'Start ' })
    await server.waitForClientClose(5_000)
    await runtime.close()
  })
})

describe('options and prices', () => {
  it('refuses malformed options with a TypeError that names them', () => {
    expect(() => anthropicProvider({ maxTokens: 0 })).toThrow(/maxTokens/)
    expect(() => anthropicProvider({ thinking: { budgetTokens: 512 } })).toThrow(/thinking.budgetTokens/)
    expect(() => anthropicProvider({ maxTokens: 2000, thinking: { budgetTokens: 4096 } })).toThrow(/below `maxTokens`/)
    expect(() => anthropicProvider({ baseURL: 'ftp://x' })).toThrow(/baseURL/)
    expect(() => anthropicProvider({ pricing: { m: { inputPerMillion: -1, outputPerMillion: 1 } } })).toThrow(/pricing\['m'\].inputPerMillion/)
    expect(() => anthropicProvider({ contextWindows: { m: 0 } })).toThrow(/contextWindows\['m'\]/)
    expect(() => anthropicProvider({ client: {} as never })).toThrow(/client/)
  })

  it('prices a dated snapshot as its base model, an unknown model at 0 with one warning, and knows the windows', () => {
    const warnings: string[] = []
    const claude = anthropicProvider({ apiKey: 'x', logger: { warn: (message: string) => warnings.push(message), error: () => {} }, contextWindows: { 'my-claude': 50_000 } })
    expect(claude.pricing?.('claude-sonnet-4-5-20250929')).toEqual(anthropicPrices['claude-sonnet-4-5'])
    expect(claude.pricing?.('claude-3-5-haiku-latest')).toEqual({ inputPerMillion: 0.8, outputPerMillion: 4, cachedInputPerMillion: 0.08, cacheWritePerMillion: 1 })
    expect(claude.pricing?.('claude-unknown-9')).toEqual({ inputPerMillion: 0, cachedInputPerMillion: 0, outputPerMillion: 0 })
    claude.pricing?.('claude-unknown-9')
    expect(warnings).toEqual([expect.stringContaining('hearth-runtime/anthropic has no price for model "claude-unknown-9"')])
    expect(claude.contextWindow?.('claude-opus-4-6')).toBe(1_000_000)
    expect(claude.contextWindow?.('claude-haiku-4-5-20251001')).toBe(200_000)
    expect(claude.contextWindow?.('my-claude')).toBe(50_000)
    expect(claude.contextWindow?.('claude-unknown-9')).toBeUndefined()
    expect(claude.name).toBe('Anthropic')
  })
})

