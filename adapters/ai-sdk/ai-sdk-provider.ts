/**
 * aiSdkProvider(model): any AI SDK language model (specification version 2
 * or 3: what the providers of `ai` 5 and 6 return, for Google, Mistral,
 * Bedrock, Groq, Ollama and more) as a hearth ModelProvider. It needs no
 * package of its own: the model comes from the user's provider package.
 */
import type { ModelProvider, Pricing } from '../../src/model.js'
import type { LanguageModel } from './language-model.js'
import { toCallOptions } from './prompt.js'
import { streamChunks } from './stream.js'

/** Options of {@link aiSdkProvider}. */
export interface AiSdkProviderOptions {
  /** Shown as `model_provider`. @default the model's `provider` (e.g. `google.generative-ai`) */
  name?: string
  /** USD per million tokens; the AI SDK has no prices, so without it runs cost 0 (a route's `pricing` also works). @default none */
  pricing?: Pricing
  /** The model's context window in tokens, for the agents' `context` (a route's `contextWindow` also works). @default unknown */
  contextWindow?: number
  /** The answer's limit in tokens (`maxOutputTokens`). @default the provider's */
  maxOutputTokens?: number
  /** Passed as the call's `providerOptions` (`{ google: { thinkingConfig: { ... } } }`). @default none */
  providerOptions?: Record<string, Record<string, unknown>>
}

const supported = new Set(['v2', 'v3'])

function validate(model: unknown, options: AiSdkProviderOptions): asserts model is LanguageModel {
  const candidate = model as Partial<LanguageModel> | null
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.doStream !== 'function') {
    throw new TypeError('Expected an AI SDK language model (an object with doStream(), from an AI SDK provider package)')
  }
  const version = candidate.specificationVersion
  if (version === 'v4') {
    throw new TypeError(
      'This AI SDK language model implements specification v4 (ai 7), which needs Node 22; hearth supports Node 20 and takes models of specification v2 or v3: use the provider package versions made for ai 5 or ai 6',
    )
  }
  if (typeof version !== 'string' || !supported.has(version)) {
    throw new TypeError(`Expected an AI SDK language model of specification v2 or v3, got specification \`${String(version)}\``)
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected aiSdkProvider options to be an object')
  for (const field of ['contextWindow', 'maxOutputTokens'] as const) {
    const value = options[field]
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new TypeError(`Expected \`${field}\` to be a positive integer, got \`${String(value)}\``)
  }
  if (options.name !== undefined && typeof options.name !== 'string') throw new TypeError('Expected `name` to be a string')
}

/**
 * Wraps `model` as a ModelProvider. A route on it names no model (the
 * provider's `model` is the model's id); the route's `model`, if given, is
 * only its label. Throws a TypeError for something that is not a v2 or v3
 * language model, naming v4 (ai 7, Node 22) when that is what it got.
 */
export function aiSdkProvider(model: LanguageModel, options: AiSdkProviderOptions = {}): ModelProvider {
  validate(model, options)
  const extra = { ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }), ...(options.providerOptions === undefined ? {} : { providerOptions: options.providerOptions }) }
  const pricing = options.pricing
  const window = options.contextWindow
  return {
    name: options.name ?? model.provider,
    model: model.modelId,
    ...(pricing === undefined ? {} : { pricing: () => pricing }),
    ...(window === undefined ? {} : { contextWindow: () => window }),
    async *stream(request, { signal }) {
      if (signal.aborted) throw signal.reason
      yield* streamChunks(model, toCallOptions(request, signal, extra), signal)
    },
  }
}
