/**
 * openaiProvider's options: validation, the environment, the connection
 * options that reach the wire, and prices.
 */
import { OpenAI } from 'openai'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openaiPrices, openaiProvider, type OpenAIProviderOptions } from '../../adapters/openai/index.js'
import type { ModelProvider, ModelRequest } from '../../src/model.js'
import { toChatReply } from './wire-script.js'
import { useFakeOpenAIServer } from './use-fake-server.js'

const server = useFakeOpenAIServer({ defaultReply: () => toChatReply([{ text: 'ok' }]) })

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

const request: ModelRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], tools: [] }

async function drain(provider: ModelProvider): Promise<void> {
  for await (const _ of provider.stream(request, { signal: new AbortController().signal })) void _
}

describe('options', () => {
  it.each<[string, unknown, string]>([
    ['options', 'sk-key', 'Expected openaiProvider options to be an object'],
    ['apiKey', { apiKey: 42 }, 'Expected `apiKey` to be a string, got `42` (number)'],
    ['baseURL', { baseURL: 'localhost:11434' }, 'Expected `baseURL` to be an http or https URL, got `localhost:11434`'],
    ['defaultHeaders', { defaultHeaders: { 'x-one': 1 } }, 'Expected `defaultHeaders` to be an object of strings'],
    ['maxRetries', { maxRetries: -1 }, 'Expected `maxRetries` to be an integer from 0, got `-1` (number)'],
    ['timeout', { timeout: 1.5 }, 'Expected `timeout` to be a positive integer of milliseconds, got `1.5` (number)'],
    ['api', { api: 'completions' }, "Expected `api` to be 'chat' or 'responses', got `completions`"],
    ['pricing', { pricing: { 'my-model': { inputPerMillion: '1', outputPerMillion: 1 } } }, "Expected `pricing['my-model'].inputPerMillion` to be a non-negative number, got `1` (string)"],
    ['pricing', { pricing: { 'my-model': { inputPerMillion: 1, outputPerMillion: -2 } } }, "Expected `pricing['my-model'].outputPerMillion` to be a non-negative number, got `-2` (number)"],
    ['extraBody', { extraBody: [] }, 'Expected `extraBody` to be an object'],
    ['client', { client: {} }, 'Expected `client` to be an OpenAI client from the `openai` package'],
  ])('throws a precise TypeError for a malformed `%s`', (_, options, message) => {
    expect(() => openaiProvider(options as OpenAIProviderOptions)).toThrow(new TypeError(message))
  })

  it('reads OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_ORG_ID when not given', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-env')
    vi.stubEnv('OPENAI_BASE_URL', server.baseURL)
    vi.stubEnv('OPENAI_ORG_ID', 'org-env')
    await drain(openaiProvider())
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-from-env')
    expect(server.requests[0]?.headers['openai-organization']).toBe('org-env')
  })

  it('sends the given organization and default headers', async () => {
    await drain(openaiProvider({ apiKey: 'sk-test', baseURL: server.baseURL, organization: 'org-1', defaultHeaders: { 'HTTP-Referer': 'https://example.com' } }))
    expect(server.requests[0]?.headers['openai-organization']).toBe('org-1')
    expect(server.requests[0]?.headers['http-referer']).toBe('https://example.com')
  })

  it('without a key, fails each OpenAI request with provider.auth and sends nothing', async () => {
    vi.stubEnv('OPENAI_API_KEY', '')
    vi.stubEnv('OPENAI_BASE_URL', '')
    const provider = openaiProvider()
    await expect(drain(provider)).rejects.toMatchObject({ code: 'provider.auth', message: expect.stringContaining('OPENAI_API_KEY') })
  })

  it('without a key, still talks to a compatible server that needs none', async () => {
    vi.stubEnv('OPENAI_API_KEY', '')
    await drain(openaiProvider({ baseURL: server.baseURL }))
    expect(server.requests).toHaveLength(1)
  })

  it('uses a given client', async () => {
    const client = new OpenAI({ apiKey: 'sk-client', baseURL: server.baseURL, maxRetries: 0 })
    await drain(openaiProvider({ client }))
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-client')
  })

  it('is named OpenAI only when it talks to OpenAI, unless named', () => {
    expect(openaiProvider({ apiKey: 'sk-test' }).name).toBe('OpenAI')
    expect(openaiProvider({ apiKey: 'ollama', baseURL: 'http://127.0.0.1:11434/v1' }).name).toBeUndefined()
    expect(openaiProvider({ apiKey: 'ollama', baseURL: 'http://127.0.0.1:11434/v1', name: 'Ollama' }).name).toBe('Ollama')
  })
})

describe('pricing', () => {
  const provider = openaiProvider({ apiKey: 'sk-test', pricing: { 'gpt-4o': { inputPerMillion: 2, outputPerMillion: 8 }, 'llama3.2': { inputPerMillion: 0, outputPerMillion: 0 } } })

  it('prices OpenAI’s common models, dated snapshots and OpenRouter names as their base model', () => {
    expect(provider.pricing?.('gpt-4o-mini')).toEqual({ inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6 })
    expect(provider.pricing?.('gpt-4o-mini-2024-07-18')).toEqual(openaiPrices['gpt-4o-mini'])
    expect(provider.pricing?.('openai/gpt-4.1-mini')).toEqual(openaiPrices['gpt-4.1-mini'])
    expect(provider.pricing?.('o4-mini-2025-04-16')).toEqual(openaiPrices['o4-mini'])
  })

  it('prices the gpt-5.x family, its -pro models and -chat-latest aliases, and knows their windows', () => {
    expect(provider.pricing?.('gpt-5.4-mini')).toEqual({ inputPerMillion: 0.75, cachedInputPerMillion: 0.075, outputPerMillion: 4.5 })
    expect(provider.pricing?.('gpt-5.2-pro')).toEqual({ inputPerMillion: 21, outputPerMillion: 168 })
    expect(provider.pricing?.('gpt-5.1-chat-latest')).toEqual(openaiPrices['gpt-5.1'])
    expect(provider.pricing?.('gpt-5.2-2025-12-11')).toEqual(openaiPrices['gpt-5.2'])
    expect(provider.contextWindow?.('gpt-5.4')).toBe(400_000)
    expect(provider.contextWindow?.('gpt-4.1-mini-2025-04-14')).toBe(1_047_576)
    expect(provider.contextWindow?.('llama3.2')).toBeUndefined()
    expect(openaiProvider({ apiKey: 'sk-test', contextWindows: { 'llama3.2': 131_072 } }).contextWindow?.('llama3.2')).toBe(131_072)
    expect(() => openaiProvider({ contextWindows: { 'llama3.2': 0 } })).toThrow(/contextWindows\['llama3.2'\]/)
  })

  it('takes prices from the `pricing` option over the table', () => {
    expect(provider.pricing?.('gpt-4o')).toEqual({ inputPerMillion: 2, outputPerMillion: 8 })
    expect(provider.pricing?.('gpt-4o-2024-11-20')).toEqual({ inputPerMillion: 2, outputPerMillion: 8 })
  })

  it('prices an unknown model at 0 and warns its logger once per model name', () => {
    const warnings: unknown[][] = []
    const logger = { warn: (...args: unknown[]) => void warnings.push(args), error: () => {} }
    const logged = openaiProvider({ apiKey: 'sk-test', pricing: { 'llama3.2': { inputPerMillion: 0, outputPerMillion: 0 } }, logger })
    const free = { inputPerMillion: 0, cachedInputPerMillion: 0, outputPerMillion: 0 }
    expect(logged.pricing?.('mystery-model-7b')).toEqual(free)
    expect(logged.pricing?.('mystery-model-7b')).toEqual(free)
    expect(openaiProvider({ apiKey: 'sk-test', logger }).pricing?.('mystery-model-7b')).toEqual(free)
    expect(logged.pricing?.('another-model')).toEqual(free)
    expect(logged.pricing?.('llama3.2')).toEqual({ inputPerMillion: 0, outputPerMillion: 0 })
    expect(warnings.map(([message]) => String(message).match(/"(.+?)"/)?.[1])).toEqual(['mystery-model-7b', 'another-model'])
  })

  it('names the model a route without one uses', () => {
    expect(openaiProvider({ apiKey: 'sk-test', model: 'gpt-5-mini' }).model).toBe('gpt-5-mini')
    expect(openaiProvider({ apiKey: 'sk-test' }).model).toBeUndefined()
    expect(() => openaiProvider({ model: 5 as never })).toThrow(/`model`/)
    expect(() => openaiProvider({ logger: {} as never })).toThrow(/`logger`/)
  })
})
