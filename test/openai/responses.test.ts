/**
 * The Responses API mode (`api: 'responses'`) through the real `openai`
 * client against the local wire server. The events are written out by hand
 * after the API reference's streaming examples (`event:` + `data:` frames,
 * no `[DONE]`: the stream ends with `response.completed`).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { openaiProvider } from '../../adapters/openai/index.js'
import type { ModelChunk, ModelProvider, ModelRequest } from '../../src/model.js'
import type { SseStep } from './fake-openai-server.js'
import { useFakeOpenAIServer } from './use-fake-server.js'

const server = useFakeOpenAIServer()

let provider: ModelProvider

beforeEach(() => {
  provider = openaiProvider({ api: 'responses', apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0, timeout: 2000 })
})

let sequence = 0
function event(type: string, fields: object): SseStep {
  return { event: type, data: { type, sequence_number: sequence++, ...fields } }
}

const responseId = 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654'
function response(status: string, extra: object = {}): object {
  return {
    id: responseId,
    object: 'response',
    created_at: 1741290958,
    status,
    error: null,
    incomplete_details: null,
    model: 'gpt-4.1-2025-04-14',
    output: [],
    parallel_tool_calls: true,
    store: false,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    usage: null,
    ...extra,
  }
}

const opening = (): SseStep[] => [
  event('response.created', { response: response('in_progress') }),
  event('response.in_progress', { response: response('in_progress') }),
]

const messageId = 'msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654'
function textItem(deltas: string[]): SseStep[] {
  const text = deltas.join('')
  const part = { type: 'output_text', text, annotations: [] }
  return [
    event('response.output_item.added', { output_index: 0, item: { id: messageId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } }),
    event('response.content_part.added', { item_id: messageId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }),
    ...deltas.map((delta) => event('response.output_text.delta', { item_id: messageId, output_index: 0, content_index: 0, delta })),
    event('response.output_text.done', { item_id: messageId, output_index: 0, content_index: 0, text }),
    event('response.content_part.done', { item_id: messageId, output_index: 0, content_index: 0, part }),
    event('response.output_item.done', { output_index: 0, item: { id: messageId, type: 'message', status: 'completed', role: 'assistant', content: [part] } }),
  ]
}

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return { model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say hi' }], tools: [], ...overrides }
}

async function run(body: ModelRequest = request()): Promise<{ chunks: ModelChunk[]; error: unknown }> {
  const chunks: ModelChunk[] = []
  try {
    for await (const piece of provider.stream(body, { signal: new AbortController().signal })) chunks.push(piece)
    return { chunks, error: undefined }
  } catch (error) {
    return { chunks, error }
  }
}

describe('Responses API streaming', () => {
  it('streams text and sends a streaming /responses request that stores nothing', async () => {
    server.enqueue({
      stream: [
        ...opening(),
        ...textItem(['Hi', ' there! How can I', ' assist you today?']),
        event('response.completed', { response: response('completed') }),
      ],
    })
    const { chunks, error } = await run()
    expect(error).toBeUndefined()
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Hi' },
      { type: 'text-delta', text: ' there! How can I' },
      { type: 'text-delta', text: ' assist you today?' },
      { type: 'finish', reason: 'stop' },
    ])
    const [sent] = server.requests
    expect(sent?.path).toBe('/v1/responses')
    expect(sent?.body).toEqual({ model: 'gpt-4.1', input: [{ type: 'message', role: 'user', content: 'Say hi' }], store: false, stream: true })
  })

  it('returns function calls assembled from argument deltas, in output order', async () => {
    const weather = { type: 'function_call', id: 'fc_1234xyz', call_id: 'call_1234xyz', name: 'get_weather', arguments: '' }
    const time = { type: 'function_call', id: 'fc_5678xyz', call_id: 'call_5678xyz', name: 'get_time', arguments: '' }
    server.enqueue({
      stream: [
        ...opening(),
        event('response.output_item.added', { output_index: 0, item: weather }),
        event('response.function_call_arguments.delta', { item_id: 'fc_1234xyz', output_index: 0, delta: '{"' }),
        event('response.function_call_arguments.delta', { item_id: 'fc_1234xyz', output_index: 0, delta: 'location":"Paris, France"}' }),
        event('response.function_call_arguments.done', { item_id: 'fc_1234xyz', output_index: 0, arguments: '{"location":"Paris, France"}' }),
        event('response.output_item.done', { output_index: 0, item: { ...weather, status: 'completed', arguments: '{"location":"Paris, France"}' } }),
        event('response.output_item.added', { output_index: 1, item: time }),
        event('response.function_call_arguments.delta', { item_id: 'fc_5678xyz', output_index: 1, delta: '{"zone":' }),
        event('response.function_call_arguments.delta', { item_id: 'fc_5678xyz', output_index: 1, delta: '"Europe/Paris"}' }),
        event('response.function_call_arguments.done', { item_id: 'fc_5678xyz', output_index: 1, arguments: '{"zone":"Europe/Paris"}' }),
        event('response.output_item.done', { output_index: 1, item: { ...time, status: 'completed', arguments: '{"zone":"Europe/Paris"}' } }),
        event('response.completed', { response: response('completed') }),
      ],
    })
    const { chunks } = await run()
    expect(chunks).toEqual([
      { type: 'tool-call', id: 'call_1234xyz', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
      { type: 'tool-call', id: 'call_5678xyz', name: 'get_time', arguments: '{"zone":"Europe/Paris"}' },
      { type: 'finish', reason: 'tool_calls' },
    ])
  })

  it('reports usage with cached and reasoning tokens from response.completed', async () => {
    const usage = {
      input_tokens: 2006,
      input_tokens_details: { cached_tokens: 1920 },
      output_tokens: 300,
      output_tokens_details: { reasoning_tokens: 256 },
      total_tokens: 2306,
    }
    server.enqueue({ stream: [...opening(), ...textItem(['Done.']), event('response.completed', { response: response('completed', { usage }) })] })
    const { chunks } = await run()
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Done.' },
      { type: 'usage', inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920, reasoningTokens: 256 },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('streams reasoning summary deltas on the reasoning channel', async () => {
    const reasoning = { id: 'rs_6820f383d7c08191846711c5df8233bc', type: 'reasoning', summary: [] }
    server.enqueue({
      stream: [
        ...opening(),
        event('response.output_item.added', { output_index: 0, item: reasoning }),
        event('response.reasoning_summary_part.added', { item_id: reasoning.id, output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } }),
        event('response.reasoning_summary_text.delta', { item_id: reasoning.id, output_index: 0, summary_index: 0, delta: '**Answering a greeting**' }),
        event('response.reasoning_summary_text.delta', { item_id: reasoning.id, output_index: 0, summary_index: 0, delta: ' The user says hi.' }),
        event('response.reasoning_summary_text.done', { item_id: reasoning.id, output_index: 0, summary_index: 0, text: '**Answering a greeting** The user says hi.' }),
        event('response.output_item.done', { output_index: 0, item: { ...reasoning, summary: [{ type: 'summary_text', text: '**Answering a greeting** The user says hi.' }] } }),
        ...textItem(['Hi!']),
        event('response.completed', { response: response('completed') }),
      ],
    })
    const { chunks } = await run()
    expect(chunks).toEqual([
      { type: 'reasoning-delta', text: '**Answering a greeting**' },
      { type: 'reasoning-delta', text: ' The user says hi.' },
      { type: 'text-delta', text: 'Hi!' },
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('maps response.incomplete to finish `length` or `content_filter`', async () => {
    server.enqueue(
      { stream: [...opening(), ...textItem(['Once upon']), event('response.incomplete', { response: response('incomplete', { incomplete_details: { reason: 'max_output_tokens' } }) })] },
      { stream: [...opening(), event('response.incomplete', { response: response('incomplete', { incomplete_details: { reason: 'content_filter' } }) })] },
    )
    expect((await run()).chunks.at(-1)).toEqual({ type: 'finish', reason: 'length' })
    expect((await run()).chunks.at(-1)).toEqual({ type: 'finish', reason: 'content_filter' })
  })

  it('maps response.failed and error events by their code, keeping what came before', async () => {
    server.enqueue(
      {
        stream: [
          ...opening(),
          ...textItem(['Partial']),
          event('response.failed', { response: response('failed', { error: { code: 'server_error', message: 'The model failed to generate a response.' } }) }),
        ],
      },
      { stream: [...opening(), event('error', { code: 'rate_limit_exceeded', message: 'Rate limit reached.', param: null })] },
    )
    const failed = await run()
    expect(failed.chunks).toEqual([{ type: 'text-delta', text: 'Partial' }])
    expect(failed.error).toMatchObject({ code: 'provider.unavailable' })
    expect((await run()).error).toMatchObject({ code: 'provider.rate_limited' })
  })

  it('fails with provider.unavailable when the stream ends before response.completed', async () => {
    server.enqueue({ stream: [...opening(), ...textItem(['Cut'])] })
    const { chunks, error } = await run()
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Cut' }])
    expect(error).toMatchObject({ code: 'provider.unavailable' })
  })

  it('sends the conversation as input items, tools with strict, and the output schema as text.format', async () => {
    server.enqueue({ stream: [...opening(), event('response.completed', { response: response('completed') })] })
    const strictSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }
    const looseSchema = { type: 'object', properties: { zone: { type: 'string' } } }
    await run(
      request({
        messages: [
          { role: 'system', content: 'Be brief.', createdAt: '2026-01-01T00:00:00.000Z' },
          { role: 'user', content: 'Weather and time in Paris?', fromHistory: true },
          {
            role: 'assistant',
            content: '',
            reasoningContent: 'Two tools.',
            toolCalls: [
              { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
              { id: 'call_2', name: 'get_time', arguments: '{}' },
            ],
          },
          { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"celsius":21}' },
          { role: 'tool', toolCallId: 'call_2', name: 'get_time', content: 'failed', isError: true },
          { role: 'assistant', content: 'Sunny, 21°C.' },
          { role: 'user', content: 'Thanks' },
        ],
        tools: [
          { name: 'get_weather', description: 'Weather', parameters: strictSchema },
          { name: 'get_time', description: 'Time', parameters: looseSchema },
        ],
        responseFormat: { name: 'answer schema!', schema: strictSchema },
      }),
    )
    expect(server.requests[0]?.body).toEqual({
      model: 'gpt-4.1',
      input: [
        { type: 'message', role: 'system', content: 'Be brief.' },
        { type: 'message', role: 'user', content: 'Weather and time in Paris?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_2', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"celsius":21}' },
        { type: 'function_call_output', call_id: 'call_2', output: 'failed' },
        { type: 'message', role: 'assistant', content: 'Sunny, 21°C.' },
        { type: 'message', role: 'user', content: 'Thanks' },
      ],
      tools: [
        { type: 'function', name: 'get_weather', description: 'Weather', parameters: strictSchema, strict: true },
        { type: 'function', name: 'get_time', description: 'Time', parameters: looseSchema, strict: false },
      ],
      text: { format: { type: 'json_schema', name: 'answer_schema_', schema: strictSchema, strict: true } },
      store: false,
      stream: true,
    })
  })
})
