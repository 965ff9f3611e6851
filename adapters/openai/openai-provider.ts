/**
 * openaiProvider(): a {@link ModelProvider} on the official `openai` client,
 * for OpenAI and every server that speaks its Chat Completions API (Ollama,
 * vLLM, LM Studio, llama.cpp's server, OpenRouter), with OpenAI's Responses
 * API as a second mode. The `openai` package, an optional peer, is imported
 * by the first `stream()`, not by importing this module or by the factory.
 */
import type { ClientOptions, OpenAI } from 'openai'
import { ProviderError } from '../../src/errors.js'
import type { ModelChunk, ModelProvider, ModelRequest, Pricing } from '../../src/model.js'
import { loadPeer } from '../../src/optional-peer.js'
import { toChatRequest } from './chat-request.js'
import { chatCompletionChunks } from './chat-stream.js'
import { environmentVariable, guardedStream, loadOnce, untilAborted } from '../../src/provider-stream.js'
import { lookUpContextWindow, lookUpPrice, openaiContextWindows, openaiPrices } from './pricing.js'
import { toProviderError, type OpenAIErrorClasses } from './provider-errors.js'
import { toResponsesRequest } from './responses-request.js'
import { responsesChunks } from './responses-stream.js'
import { resolveLogger, type Logger } from '../../src/logger.js'

/** Options of {@link openaiProvider}. */
export interface OpenAIProviderOptions {
  /** The API key. @default process.env.OPENAI_API_KEY */
  apiKey?: string
  /**
   * Where the API lives, e.g. `http://127.0.0.1:11434/v1` for Ollama.
   * @default process.env.OPENAI_BASE_URL, else `https://api.openai.com/v1`
   */
  baseURL?: string
  /** The OpenAI organization id sent with each request. @default process.env.OPENAI_ORG_ID */
  organization?: string
  /** Headers sent with every request (OpenRouter's `HTTP-Referer`, a proxy's auth). @default {} */
  defaultHeaders?: Record<string, string>
  /**
   * How often the `openai` client itself retries a 408, 409, 429, 5xx or
   * failed connection. The agent loop retries failed turns itself, visibly
   * (`model.retry`, the route's `retry`), so the client does not.
   * @default 0
   */
  maxRetries?: number
  /**
   * Milliseconds to wait for the response to start, and then for each next
   * piece of the stream, before failing with `provider.timeout`.
   * @default 600000 (10 minutes)
   */
  timeout?: number
  /** `'chat'`: Chat Completions, which compatible servers speak. `'responses'`: OpenAI's Responses API. @default 'chat' */
  api?: 'chat' | 'responses'
  /**
   * Prices in USD per million tokens by model name, added to and replacing
   * entries of the built-in table of OpenAI's models. A route's own `pricing` wins.
   * @default {}
   */
  pricing?: Record<string, Pricing>
  /**
   * Fields merged into every request body, for what hearth does not model:
   * `{ temperature: 0 }`, `{ reasoning_effort: 'low' }`, `{ reasoning: { summary: 'auto' } }`.
   * A field set to `undefined` is left out (`{ stream_options: undefined }` for servers that reject it).
   * @default {}
   */
  extraBody?: Record<string, unknown>
  /** Shown as `model_provider`. @default 'OpenAI' for api.openai.com, else the key in `providers` */
  name?: string
  /**
   * The model of a route that names none, and of `Runtime.open({ model: openaiProvider({ model }) })`,
   * e.g. `'gpt-5-mini'`. @default none: each route names its model
   */
  model?: string
  /** Context windows in tokens by model name, added to the built-in table (`openaiContextWindows`); a model in neither has no known window. @default {} */
  contextWindows?: Record<string, number>
  /** Where the provider warns (a model it has no price for). @default consoleLogger */
  logger?: Logger
  /**
   * A client to use instead of building one (an `AzureOpenAI`, or one with a custom `fetch`);
   * the connection options above are then ignored.
   * @default a client built from the options above
   */
  client?: OpenAI
}

const openaiBaseURL = 'https://api.openai.com/v1'
// Servers that need no key still get an Authorization header; the client insists on one.
const placeholderKey = 'no-key'

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

function optionalString(options: OpenAIProviderOptions, key: 'apiKey' | 'baseURL' | 'organization' | 'name' | 'model'): void {
  const value = options[key]
  if (value !== undefined && typeof value !== 'string') {
    throw new TypeError(`Expected \`${key}\` to be a string, got \`${String(value)}\` (${typeof value})`)
  }
}

function validate(options: OpenAIProviderOptions): void {
  const raw: unknown = options
  if (!isPlainObject(raw)) throw new TypeError('Expected openaiProvider options to be an object')
  for (const key of ['apiKey', 'baseURL', 'organization', 'name', 'model'] as const) optionalString(options, key)
  if (options.baseURL !== undefined && !isHttpUrl(options.baseURL)) {
    throw new TypeError(`Expected \`baseURL\` to be an http or https URL, got \`${options.baseURL}\``)
  }
  if (options.defaultHeaders !== undefined) {
    if (!isPlainObject(options.defaultHeaders) || !Object.values(options.defaultHeaders).every((value) => typeof value === 'string')) {
      throw new TypeError('Expected `defaultHeaders` to be an object of strings')
    }
  }
  const { maxRetries, timeout } = options
  if (maxRetries !== undefined && !(Number.isInteger(maxRetries) && maxRetries >= 0)) {
    throw new TypeError(`Expected \`maxRetries\` to be an integer from 0, got \`${String(maxRetries)}\` (${typeof maxRetries})`)
  }
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0 && timeout <= 2_147_483_647)) {
    throw new TypeError(`Expected \`timeout\` to be a positive integer of milliseconds, got \`${String(timeout)}\` (${typeof timeout})`)
  }
  if (options.api !== undefined && options.api !== 'chat' && options.api !== 'responses') {
    throw new TypeError(`Expected \`api\` to be 'chat' or 'responses', got \`${String(options.api)}\``)
  }
  if (options.pricing !== undefined && !isPlainObject(options.pricing)) {
    throw new TypeError('Expected `pricing` to be an object of prices by model name')
  }
  for (const [model, price] of Object.entries(options.pricing ?? {})) {
    if (!isPlainObject(price)) throw new TypeError(`Expected \`pricing['${model}']\` to be an object`)
    for (const field of ['inputPerMillion', 'cachedInputPerMillion', 'outputPerMillion']) {
      const value = price[field]
      if (value === undefined && field === 'cachedInputPerMillion') continue
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new TypeError(`Expected \`pricing['${model}'].${field}\` to be a non-negative number, got \`${String(value)}\` (${typeof value})`)
      }
    }
  }
  if (options.contextWindows !== undefined && !isPlainObject(options.contextWindows)) {
    throw new TypeError('Expected `contextWindows` to be an object of token counts by model name')
  }
  for (const [model, window] of Object.entries(options.contextWindows ?? {})) {
    if (!Number.isSafeInteger(window) || (window as number) < 1) {
      throw new TypeError(`Expected \`contextWindows['${model}']\` to be a positive integer, got \`${String(window)}\` (${typeof window})`)
    }
  }
  if (options.extraBody !== undefined && !isPlainObject(options.extraBody)) {
    throw new TypeError('Expected `extraBody` to be an object')
  }
  // Duck-typed, so a client from another copy of the `openai` package works too.
  const client = options.client as { chat?: { completions?: { create?: unknown } }; responses?: { create?: unknown } } | undefined
  if (client !== undefined && (typeof client.chat?.completions?.create !== 'function' || typeof client.responses?.create !== 'function')) {
    throw new TypeError('Expected `client` to be an OpenAI client from the `openai` package')
  }
}

/** The options of the client to build, read now (the environment among them); none when there is no key for OpenAI itself. */
function clientOptions(options: OpenAIProviderOptions, baseURL: string): ClientOptions | undefined {
  let apiKey = options.apiKey ?? environmentVariable('OPENAI_API_KEY')
  if (apiKey === undefined || apiKey === '') {
    if (baseURL === openaiBaseURL) return undefined
    apiKey = placeholderKey
  }
  const organization = options.organization ?? environmentVariable('OPENAI_ORG_ID')
  return {
    apiKey,
    baseURL,
    ...(organization === undefined ? {} : { organization }),
    defaultHeaders: options.defaultHeaders ?? {},
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeout ?? 600_000,
  }
}

/** The loaded `openai` module: its client class and error classes. */
interface OpenAIModule extends OpenAIErrorClasses {
  OpenAI: typeof OpenAI
}

/** What `stream()` needs of the `openai` module, made once it is loaded. */
interface Connected {
  /** The client; none when there is no key for OpenAI itself. */
  client: OpenAI | undefined
  toProviderError: (error: unknown) => ProviderError
}

/**
 * A ModelProvider for OpenAI and OpenAI-compatible servers. Reads
 * `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_ORG_ID` for options not
 * given. Throws a TypeError on malformed options; a missing key for OpenAI
 * itself fails each request with `provider.auth` instead. The first request
 * imports the `openai` package and builds the client, which later requests
 * reuse; without the package, requests fail with `dependency.missing`.
 */
export function openaiProvider(options: OpenAIProviderOptions = {}): ModelProvider {
  validate(options)
  const logger = resolveLogger(options.logger)
  const baseURL = (options.baseURL ?? environmentVariable('OPENAI_BASE_URL') ?? openaiBaseURL).replace(/\/+$/, '')
  const given = options.client
  const toBuild = given === undefined ? clientOptions(options, baseURL) : undefined
  const api = options.api ?? 'chat'
  const idleTimeoutMs = options.timeout ?? given?.timeout ?? 600_000
  const extraBody = { ...options.extraBody }
  const prices: Record<string, Pricing> = { ...openaiPrices, ...options.pricing }
  const windows: Record<string, number> = { ...openaiContextWindows, ...options.contextWindows }
  const name = options.name ?? (given === undefined && baseURL === openaiBaseURL ? 'OpenAI' : undefined)
  // Loads `openai` and builds the client on the first request; a failed load is tried again by the next.
  const connect = loadOnce(() =>
    loadPeer<OpenAIModule>('openai', { subpath: 'hearth-runtime/openai', install: 'openai@6' }).then(
      (openai): Connected => ({
        client: given ?? (toBuild === undefined ? undefined : new openai.OpenAI(toBuild)),
        toProviderError: (error: unknown) => toProviderError(error, openai),
      }),
    ),
  )

  function start({ client, toProviderError }: Connected, request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelChunk> {
    if (client === undefined) {
      throw new ProviderError('provider.auth', 'No OpenAI API key: pass `apiKey` to openaiProvider() or set OPENAI_API_KEY')
    }
    if (api === 'responses') {
      const body = toResponsesRequest(request, extraBody)
      return responsesChunks(guardedStream(() => client.responses.create(body, { signal }), signal, idleTimeoutMs, toProviderError))
    }
    const body = toChatRequest(request, extraBody)
    return chatCompletionChunks(guardedStream(() => client.chat.completions.create(body, { signal }), signal, idleTimeoutMs, toProviderError))
  }

  return {
    ...(name === undefined ? {} : { name }),
    ...(options.model === undefined ? {} : { model: options.model }),
    pricing: (model) => lookUpPrice(prices, model, logger),
    contextWindow: (model) => lookUpContextWindow(windows, model),
    async *stream(request, { signal }) {
      if (signal.aborted) throw signal.reason
      yield* start(await untilAborted(connect(), signal), request, signal)
    },
  }
}
