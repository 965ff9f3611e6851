/**
 * Failures through the real `openai` client against the local wire server:
 * HTTP errors and their retries, broken streams, timeouts and cancellation.
 */
import { AuthenticationError } from 'openai'
import { describe, expect, it } from 'vitest'
import { openaiProvider, type OpenAIProviderOptions } from '../../adapters/openai/index.js'
import { ProviderError } from '../../src/errors.js'
import type { ModelChunk, ModelProvider, ModelRequest } from '../../src/model.js'
import { startFakeOpenAIServer, type SseStep } from './fake-openai-server.js'
import { httpErrorReplies } from './wire-script.js'
import { useFakeOpenAIServer } from './use-fake-server.js'

const server = useFakeOpenAIServer({ quiet: true })

const head = { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini' }
const chunk = (delta: object, finishReason: string | null = null): SseStep => ({
  data: { ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] },
})
const hello: SseStep[] = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({}, 'stop'), { done: true }]
const request: ModelRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], tools: [] }

function providerWith(options: OpenAIProviderOptions = {}): ModelProvider {
  return openaiProvider({ apiKey: 'sk-test', baseURL: server.baseURL, maxRetries: 0, timeout: 2000, ...options })
}

/** Reads the whole stream; returns what came before the failure and the failure. */
async function run(provider: ModelProvider, signal = new AbortController().signal): Promise<{ chunks: ModelChunk[]; error: unknown }> {
  const chunks: ModelChunk[] = []
  try {
    for await (const piece of provider.stream(request, { signal })) chunks.push(piece)
    return { chunks, error: undefined }
  } catch (error) {
    return { chunks, error }
  }
}

describe('HTTP errors', () => {
  it('401 fails with provider.auth at once, keeping the status and the client error', async () => {
    server.enqueue(httpErrorReplies['provider.auth'])
    const { error } = await run(providerWith({ maxRetries: 2 }))
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ code: 'provider.auth', status: 401 })
    expect((error as ProviderError).cause).toBeInstanceOf(AuthenticationError)
    expect((error as ProviderError).message).toContain('Incorrect API key provided')
    expect(server.requests).toHaveLength(1)
  })

  it('429 with retry-after is retried, and the retry succeeds', async () => {
    server.enqueue(httpErrorReplies['provider.rate_limited'], { stream: hello })
    const { chunks, error } = await run(providerWith({ maxRetries: 2 }))
    expect(error).toBeUndefined()
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Hello' }, { type: 'finish', reason: 'stop' }])
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]?.headers['x-stainless-retry-count']).toBe('1')
  })

  it('429 on every attempt fails with provider.rate_limited once the retries are spent', async () => {
    server.enqueue(httpErrorReplies['provider.rate_limited'], httpErrorReplies['provider.rate_limited'])
    const { error } = await run(providerWith({ maxRetries: 1 }))
    expect(error).toMatchObject({ code: 'provider.rate_limited', status: 429 })
    expect(server.requests).toHaveLength(2)
  })

  it('500 is retried, and the retry succeeds', async () => {
    server.enqueue(
      { status: 500, headers: { 'retry-after-ms': '0' }, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } },
      { stream: hello },
    )
    const { chunks, error } = await run(providerWith({ maxRetries: 1 }))
    expect(error).toBeUndefined()
    expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'stop' })
    expect(server.requests).toHaveLength(2)
  })

  it('5xx on every attempt fails with provider.unavailable', async () => {
    server.enqueue(httpErrorReplies['provider.unavailable'])
    expect((await run(providerWith())).error).toMatchObject({ code: 'provider.unavailable', status: 503 })
  })

  it('a context length error fails with provider.context_length, not retried', async () => {
    server.enqueue(httpErrorReplies['provider.context_length'])
    expect((await run(providerWith({ maxRetries: 2 }))).error).toMatchObject({ code: 'provider.context_length', status: 400 })
    expect(server.requests).toHaveLength(1)
  })

  it('another 4xx (an unknown model) fails with provider.bad_response', async () => {
    server.enqueue({
      status: 404,
      body: { error: { message: 'The model `gpt-9` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' } },
    })
    const { error } = await run(providerWith())
    expect(error).toMatchObject({ code: 'provider.bad_response', status: 404 })
    expect((error as Error).message).toContain('gpt-9')
  })

  it('a refused connection fails with provider.unavailable', async () => {
    const closed = await startFakeOpenAIServer()
    const baseURL = closed.baseURL
    await closed.close()
    expect((await run(providerWith({ baseURL }))).error).toMatchObject({ code: 'provider.unavailable' })
  })
})

describe('broken streams', () => {
  it('a malformed chunk fails with provider.bad_response, keeping what came before', async () => {
    server.enqueue({ stream: [chunk({ content: 'Hel' }), { raw: 'data: {"id":"chatcmpl-9","choices":[{"index":0,"delta":{"content":"lo\n\n' }] })
    const { chunks, error } = await run(providerWith())
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Hel' }])
    expect(error).toMatchObject({ code: 'provider.bad_response' })
    expect((error as Error).message).toContain('not valid JSON')
  })

  it('a connection cut mid-stream fails with provider.unavailable, keeping what came before', async () => {
    server.enqueue({ stream: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Half an ' }), chunk({ content: 'answer' }), { cut: true }] })
    const { chunks, error } = await run(providerWith())
    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Half an ' },
      { type: 'text-delta', text: 'answer' },
    ])
    expect(error).toMatchObject({ code: 'provider.unavailable' })
  })

  it('a stream that ends without a finish reason fails with provider.unavailable', async () => {
    server.enqueue({ stream: [chunk({ content: 'Where did it go' })] })
    const { chunks, error } = await run(providerWith())
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Where did it go' }])
    expect(error).toMatchObject({ code: 'provider.unavailable' })
  })

  it('an error object inside the stream is mapped by its code', async () => {
    server.enqueue({
      stream: [chunk({ content: 'So far' }), { data: { error: { message: 'The server had an error.', type: 'server_error', param: null, code: 'server_error' } } }],
    })
    const { chunks, error } = await run(providerWith())
    expect(chunks).toEqual([{ type: 'text-delta', text: 'So far' }])
    expect(error).toMatchObject({ code: 'provider.unavailable' })
  })
})

describe('timeouts and cancellation', () => {
  it('a server that never answers fails with provider.timeout', async () => {
    // The server never answers: only the 150 ms timeout can end the request within the test's time.
    server.enqueue({ hang: true })
    expect((await run(providerWith({ timeout: 150 }))).error).toMatchObject({ code: 'provider.timeout' })
  })

  it('a stream that falls silent midway fails with provider.timeout', async () => {
    server.enqueue({ stream: [chunk({ content: 'Thinking' }), { stall: true }] })
    const { chunks, error } = await run(providerWith({ timeout: 150 }))
    expect(chunks).toEqual([{ type: 'text-delta', text: 'Thinking' }])
    expect(error).toMatchObject({ code: 'provider.timeout' })
    await server.waitForClientClose()
  })

  it('aborting mid-stream rejects at once with the abort reason, and the server sees the socket close', async () => {
    server.enqueue({ stream: [chunk({ content: 'Before' }), { delay: 5000 }, chunk({ content: 'after' }), chunk({}, 'stop'), { done: true }] })
    const controller = new AbortController()
    const iterator = providerWith().stream(request, { signal: controller.signal })[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toEqual({ type: 'text-delta', text: 'Before' })
    const started = performance.now()
    const reason = new Error('cancelled by the user')
    setTimeout(() => controller.abort(reason), 10)
    await expect(iterator.next()).rejects.toBe(reason)
    expect(performance.now() - started).toBeLessThan(500)
    const closed = await server.waitForClientClose(1000)
    expect(closed.path).toBe('/v1/chat/completions')
  })

  it('leaving the loop early closes the connection too', async () => {
    server.enqueue({ stream: [chunk({ content: 'One' }), { delay: 5000 }, chunk({}, 'stop'), { done: true }] })
    for await (const piece of providerWith().stream(request, { signal: new AbortController().signal })) {
      expect(piece).toEqual({ type: 'text-delta', text: 'One' })
      break
    }
    await server.waitForClientClose(1000)
  })

  it('aborting while the client waits to retry rejects at once', async () => {
    server.enqueue({ ...httpErrorReplies['provider.rate_limited'], headers: { 'retry-after': '2' } }, { stream: hello })
    const controller = new AbortController()
    const started = performance.now()
    setTimeout(() => controller.abort(), 100)
    const { error } = await run(providerWith({ maxRetries: 1 }), controller.signal)
    expect(error).toBeInstanceOf(DOMException)
    expect((error as DOMException).name).toBe('AbortError')
    expect(performance.now() - started).toBeLessThan(1000)
  })
})
