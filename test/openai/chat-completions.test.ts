/**
 * Chat Completions through the real `openai` client against the local wire
 * server. The chunks are written out by hand after the API reference's
 * streaming examples (`chat.completion.chunk` objects, `data: [DONE]`).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { openaiProvider } from '../../adapters/openai/index.js'
import type { ModelChunk, ModelProvider, ModelRequest } from '../../src/model.js'
import type { SseStep } from './fake-openai-server.js'
import { useFakeOpenAIServer } from './use-fake-server.js'

const server = useFakeOpenAIServer()

let provider: ModelProvider

beforeEach(() => {
  provider = openaiProvider({ apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0, timeout: 2000 })
})

const head = { id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini', system_fingerprint: 'fp_44709d6fcb' }

function chunk(delta: object, finishReason: string | null = null): SseStep {
  return { data: { ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] } }
}

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }], tools: [], ...overrides }
}

async function collect(target: ModelProvider = provider, body: ModelRequest = request()): Promise<ModelChunk[]> {
  const chunks: ModelChunk[] = []
  for await (const piece of target.stream(body, { signal: new AbortController().signal })) chunks.push(piece)
  return chunks
}

describe('Chat Completions streaming', () => {
  it('streams plain text and sends a streaming request with usage asked for', async () => {
    server.enqueue({
      stream: [
        chunk({ role: 'assistant', content: '', refusal: null }),
        chunk({ content: 'Hello' }),
        chunk({ content: '! How can I' }),
        chunk({ content: ' help you today?' }),
        chunk({}, 'stop'),
        { done: true },
      ],
    })
    const chunks = await collect()
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: '! How can I' },
      { type: 'text-delta', text: ' help you today?' },
      { type: 'finish', reason: 'stop' },
    ])
    const [sent] = server.requests
    expect(sent?.path).toBe('/v1/chat/completions')
    expect(sent?.headers.authorization).toBe('Bearer sk-test')
    expect(sent?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('assembles several parallel tool calls from interleaved fragments, by index', async () => {
    server.enqueue({
      stream: [
        chunk({ role: 'assistant', content: null }),
        chunk({ tool_calls: [{ index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, id: null, type: null, function: { name: null, arguments: '{"loc' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_Ab12Cd34Ef56Gh78Ij90Kl12', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: '{"zone":"Europe/' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'ation":"Paris, ' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: 'Paris"}' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'France"}' } }] }),
        chunk({}, 'tool_calls'),
        { done: true },
      ],
    })
    const chunks = await collect()
    expect(chunks).toEqual([
      { type: 'tool-call', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      { type: 'tool-call', id: 'call_Ab12Cd34Ef56Gh78Ij90Kl12', name: 'get_time', arguments: '{"zone":"Europe/Paris"}' },
      { type: 'finish', reason: 'tool_calls' },
    ])
  })

  it('treats a new id on a reused index as a new call, and gives a call without arguments {}', async () => {
    server.enqueue({
      stream: [
        chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'list_orders', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"zone":"UTC"}' } }] }),
        chunk({}, 'stop'),
        { done: true },
      ],
    })
    expect(await collect()).toEqual([
      { type: 'tool-call', id: 'call_a', name: 'list_orders', arguments: '{}' },
      { type: 'tool-call', id: 'call_b', name: 'get_time', arguments: '{"zone":"UTC"}' },
      { type: 'finish', reason: 'tool_calls' },
    ])
  })

  it('reports usage with cached and reasoning tokens from the final usage chunk', async () => {
    server.enqueue({
      stream: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Cached.' }),
        chunk({}, 'stop'),
        {
          data: {
            ...head,
            choices: [],
            usage: {
              prompt_tokens: 2006,
              completion_tokens: 300,
              total_tokens: 2306,
              prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
              completion_tokens_details: { reasoning_tokens: 128, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
            },
          },
        },
        { done: true },
      ],
    })
    expect(await collect()).toEqual([
      { type: 'text-delta', text: 'Cached.' },
      { type: 'usage', inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920, reasoningTokens: 128 },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('reports cached tokens a compatible server sends as prompt_cache_hit_tokens, without prompt_tokens_details', async () => {
    // DeepSeek's usage: the cache hits and misses beside prompt_tokens, which counts both.
    server.enqueue({
      stream: [
        chunk({ role: 'assistant', content: 'Cached.' }),
        chunk({}, 'stop'),
        {
          data: {
            ...head,
            choices: [],
            usage: { prompt_tokens: 1200, completion_tokens: 40, total_tokens: 1240, prompt_cache_hit_tokens: 1024, prompt_cache_miss_tokens: 176 },
          },
        },
        { done: true },
      ],
    })
    expect(await collect()).toEqual([
      { type: 'text-delta', text: 'Cached.' },
      { type: 'usage', inputTokens: 1200, outputTokens: 40, cachedInputTokens: 1024 },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('streams `reasoning_content` (and Ollama-style `reasoning`) deltas on the reasoning channel', async () => {
    server.enqueue({
      stream: [
        chunk({ role: 'assistant', content: null, reasoning_content: '' }),
        chunk({ reasoning_content: 'The user says hello.' }),
        chunk({ reasoning: ' Answer briefly.' }),
        chunk({ content: 'Hi!' }),
        chunk({}, 'stop'),
        { done: true },
      ],
    })
    expect(await collect()).toEqual([
      { type: 'reasoning-delta', text: 'The user says hello.' },
      { type: 'reasoning-delta', text: ' Answer briefly.' },
      { type: 'text-delta', text: 'Hi!' },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it.each([
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['function_call', 'tool_calls'],
    ['eos', 'stop'],
  ] as const)('maps finish_reason `%s` to `%s`', async (wire, reason) => {
    server.enqueue({ stream: [chunk({ content: 'x' }), chunk({}, wire), { done: true }] })
    expect((await collect()).at(-1)).toEqual({ type: 'finish', reason })
  })

  it('passes a refusal on as text', async () => {
    server.enqueue({ stream: [chunk({ refusal: "I'm sorry, I cannot help with that." }), chunk({}, 'stop'), { done: true }] })
    expect(await collect()).toEqual([
      { type: 'text-delta', text: "I'm sorry, I cannot help with that." },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('sends extraBody fields and leaves out the ones set to undefined', async () => {
    const tuned = openaiProvider({
      apiKey: 'sk-test',
      baseURL: server.baseURL,
      extraBody: { temperature: 0, stream_options: undefined },
    })
    server.enqueue({ stream: [chunk({ content: 'ok' }), chunk({}, 'stop'), { done: true }] })
    await collect(tuned)
    expect(server.requests[0]?.body).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }], temperature: 0, stream: true })
  })
})
