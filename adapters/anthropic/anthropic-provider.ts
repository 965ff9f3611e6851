/**
 * anthropicProvider(): a {@link ModelProvider} on the official
 * `@anthropic-ai/sdk` client, for Claude through Anthropic's Messages API.
 * The package, an optional peer, is imported by the first `stream()`, not by
 * importing this module or by the factory.
 */
import type { Anthropic, ClientOptions } from '@anthropic-ai/sdk'
import { ProviderError } from '../../src/errors.js'
import { resolveLogger, type Logger } from '../../src/logger.js'
import type { ModelProvider, ModelRequest, Pricing } from '../../src/model.js'
import { loadPeer } from '../../src/optional-peer.js'
import { environmentVariable, guardedStream, loadOnce, untilAborted } from '../../src/provider-stream.js'
import { toMessagesRequest } from './messages-request.js'
import { messagesChunks } from './messages-stream.js'
import { anthropicContextWindow, anthropicContextWindows, anthropicPrice, anthropicPrices } from './pricing.js'
import { toProviderError, type AnthropicErrorClasses } from './provider-errors.js'

/** Options of {@link anthropicProvider}. */
export interface AnthropicProviderOptions {
  /** The API key. @default process.env.ANTHROPIC_API_KEY */
  apiKey?: string
  /** Where the API lives (without `/v1`). @default process.env.ANTHROPIC_BASE_URL, else `https://api.anthropic.com` */
  baseURL?: string
  /** Headers sent with every request (a beta's `anthropic-beta`, a proxy's auth). @default {} */
  defaultHeaders?: Record<string, string>
  /** The answer's limit in tokens (`max_tokens`, which the API requires), thinking included. @default 8192 */
  maxTokens?: number
  /** Extended thinking: `budgetTokens` (at least 1024, below `maxTokens`) streamed on the reasoning channel. @default off */
  thinking?: { budgetTokens: number }
  /**
   * Prompt caching: cache breakpoints on the system prompt, the last tool and
   * the conversation's last message, so each turn of a run reads the
   * previous turn's prefix from Anthropic's cache (reads cost a tenth of
   * input, writes a quarter more). @default false
   */
  promptCaching?: boolean
  /** How often the client itself retries; the agent loop retries failed turns itself, visibly, so it does not. @default 0 */
  maxRetries?: number
  /** Milliseconds to wait for the response to start, and then for each next piece of the stream. @default 600000 (10 minutes) */
  timeout?: number
  /** Prices in USD per million tokens by model id, added to and replacing entries of `anthropicPrices`. A route's own `pricing` wins. @default {} */
  pricing?: Record<string, Pricing>
  /** Context windows in tokens by model id, added to and replacing entries of `anthropicContextWindows`. A route's own `contextWindow` wins. @default {} */
  contextWindows?: Record<string, number>
  /** Fields merged into every request body (`{ temperature: 0 }`, `{ top_k: 5 }`); a field set to `undefined` is left out. @default {} */
  extraBody?: Record<string, unknown>
  /** Shown as `model_provider`. @default 'Anthropic' */
  name?: string
  /** The model of a route that names none, e.g. `'claude-sonnet-4-5'`. @default none: each route names its model */
  model?: string
  /** Where the provider warns (a model it has no price for). @default consoleLogger */
  logger?: Logger
  /** A client to use instead of building one; the connection options above are then ignored. @default one built from them */
  client?: Anthropic
}

const anthropicBaseURL = 'https://api.anthropic.com'

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function positiveInteger(value: unknown, name: string, least = 1): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= least)) {
    throw new TypeError(`Expected \`${name}\` to be an integer from ${least}, got \`${String(value)}\` (${typeof value})`)
  }
}

function checkTable(table: unknown, name: string, check: (entry: unknown, where: string) => void): void {
  if (table === undefined) return
  if (!isPlainObject(table)) throw new TypeError(`Expected \`${name}\` to be an object by model id`)
  for (const [model, entry] of Object.entries(table)) check(entry, `${name}['${model}']`)
}

function checkPrice(price: unknown, where: string): void {
  if (!isPlainObject(price)) throw new TypeError(`Expected \`${where}\` to be an object`)
  for (const field of ['inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion', 'cacheWritePerMillion']) {
    const value = price[field]
    if (value === undefined && field !== 'inputPerMillion' && field !== 'outputPerMillion') continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`Expected \`${where}.${field}\` to be a non-negative number, got \`${String(value)}\` (${typeof value})`)
    }
  }
}

function validate(options: AnthropicProviderOptions): void {
  if (!isPlainObject(options as unknown)) throw new TypeError('Expected anthropicProvider options to be an object')
  for (const key of ['apiKey', 'baseURL', 'name', 'model'] as const) {
    const value = options[key]
    if (value !== undefined && typeof value !== 'string') throw new TypeError(`Expected \`${key}\` to be a string, got \`${String(value)}\` (${typeof value})`)
  }
  if (options.baseURL !== undefined && !/^https?:\/\//.test(options.baseURL)) throw new TypeError(`Expected \`baseURL\` to be an http or https URL, got \`${options.baseURL}\``)
  if (options.defaultHeaders !== undefined && (!isPlainObject(options.defaultHeaders) || !Object.values(options.defaultHeaders).every((value) => typeof value === 'string'))) {
    throw new TypeError('Expected `defaultHeaders` to be an object of strings')
  }
  positiveInteger(options.maxTokens, 'maxTokens')
  positiveInteger(options.maxRetries, 'maxRetries', 0)
  positiveInteger(options.timeout, 'timeout')
  if (options.thinking !== undefined) {
    if (!isPlainObject(options.thinking)) throw new TypeError('Expected `thinking` to be `{ budgetTokens }`')
    positiveInteger(options.thinking.budgetTokens, 'thinking.budgetTokens', 1024)
    if (options.thinking.budgetTokens === undefined || options.thinking.budgetTokens >= (options.maxTokens ?? defaultMaxTokens)) {
      throw new TypeError(`Expected \`thinking.budgetTokens\` to be below \`maxTokens\` (${options.maxTokens ?? defaultMaxTokens}), got \`${String(options.thinking.budgetTokens)}\``)
    }
  }
  checkTable(options.pricing, 'pricing', checkPrice)
  checkTable(options.contextWindows, 'contextWindows', (entry, where) => positiveInteger(entry, where))
  if (options.extraBody !== undefined && !isPlainObject(options.extraBody)) throw new TypeError('Expected `extraBody` to be an object')
  if (options.promptCaching !== undefined && typeof options.promptCaching !== 'boolean') throw new TypeError('Expected `promptCaching` to be a boolean')
  const client = options.client as { messages?: { create?: unknown } } | undefined
  if (client !== undefined && typeof client.messages?.create !== 'function') throw new TypeError('Expected `client` to be an Anthropic client from `@anthropic-ai/sdk`')
}

/** The answer limit of a provider that sets none. */
export const defaultMaxTokens = 8192

/** The loaded `@anthropic-ai/sdk` module: its client class and error classes. */
interface AnthropicModule extends AnthropicErrorClasses {
  Anthropic: typeof Anthropic
}

interface Connected {
  /** None when there is no key. */
  client: Anthropic | undefined
  toProviderError: (error: unknown) => ProviderError
}

/**
 * A ModelProvider for Anthropic's Claude models. Reads `ANTHROPIC_API_KEY`
 * and `ANTHROPIC_BASE_URL` for options not given. Throws a TypeError on
 * malformed options; a missing key fails each request with `provider.auth`.
 * The first request imports `@anthropic-ai/sdk` and builds the client; without
 * the package, requests fail with `dependency.missing`.
 */
export function anthropicProvider(options: AnthropicProviderOptions = {}): ModelProvider {
  validate(options)
  const logger = resolveLogger(options.logger)
  const given = options.client
  const apiKey = options.apiKey ?? environmentVariable('ANTHROPIC_API_KEY')
  const baseURL = (options.baseURL ?? environmentVariable('ANTHROPIC_BASE_URL') ?? anthropicBaseURL).replace(/\/+$/, '')
  const toBuild: ClientOptions | undefined =
    given !== undefined || apiKey === undefined
      ? undefined
      : { apiKey, baseURL, defaultHeaders: options.defaultHeaders ?? {}, maxRetries: options.maxRetries ?? 0, timeout: options.timeout ?? 600_000 }
  const idleTimeoutMs = options.timeout ?? 600_000
  const requestOptions = { maxTokens: options.maxTokens ?? defaultMaxTokens, thinkingBudgetTokens: options.thinking?.budgetTokens, extraBody: { ...options.extraBody }, promptCaching: options.promptCaching === true }
  const prices: Record<string, Pricing> = { ...anthropicPrices, ...options.pricing }
  const windows: Record<string, number> = { ...anthropicContextWindows, ...options.contextWindows }
  const connect = loadOnce(() =>
    loadPeer<AnthropicModule>('@anthropic-ai/sdk', { subpath: 'hearth-runtime/anthropic', install: '@anthropic-ai/sdk@1' }).then(
      (anthropic): Connected => ({
        client: given ?? (toBuild === undefined ? undefined : new anthropic.Anthropic(toBuild)),
        toProviderError: (error: unknown) => toProviderError(error, anthropic),
      }),
    ),
  )

  function start({ client, toProviderError: mapError }: Connected, request: ModelRequest, signal: AbortSignal) {
    if (client === undefined) throw new ProviderError('provider.auth', 'No Anthropic API key: pass `apiKey` to anthropicProvider() or set ANTHROPIC_API_KEY')
    const body = toMessagesRequest(request, requestOptions)
    return messagesChunks(guardedStream(() => client.messages.create(body, { signal }), signal, idleTimeoutMs, mapError))
  }

  return {
    name: options.name ?? 'Anthropic',
    ...(options.model === undefined ? {} : { model: options.model }),
    pricing: (model) => anthropicPrice(prices, model, logger),
    contextWindow: (model) => anthropicContextWindow(windows, model),
    async *stream(request, { signal }) {
      if (signal.aborted) throw signal.reason
      yield* start(await untilAborted(connect(), signal), request, signal)
    },
  }
}
