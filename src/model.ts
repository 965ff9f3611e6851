/**
 * The ModelProvider interface: how the agent loop talks to a model. A provider
 * turns a {@link ModelRequest} into a stream of {@link ModelChunk}s. It fails by
 * throwing a `ProviderError` (`provider.*` code, with `retryAfterMs` when the
 * server asked for a wait) and stops at once when `options.signal` aborts. It
 * does not retry: the loop retries failed turns itself.
 */

/** A JSON Schema object, as produced by zod's `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>

/** A tool call the model asked for. `arguments` is the raw JSON text the model produced. */
export interface ToolCall {
  id: string
  name: string
  arguments: string
}

/** Fields every message may carry when it is stored on a run. */
export interface MessageMeta {
  /** ISO time the message was added to the run. */
  createdAt?: string
  /** True for messages of the session's earlier runs. */
  fromHistory?: boolean
}

/** A system prompt. */
export interface SystemMessage extends MessageMeta {
  role: 'system'
  content: string
}

/** The user's input. */
export interface UserMessage extends MessageMeta {
  role: 'user'
  content: string
}

/**
 * A reasoning block a provider needs back, unchanged, on the next request of
 * the conversation (Anthropic's thinking with its signature, and redacted
 * thinking, which tool use with thinking requires). Stored with the turn, so
 * a resumed run sends it too.
 */
export type ReasoningBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string }

/** One model turn's answer. */
export interface AssistantMessage extends MessageMeta {
  role: 'assistant'
  content: string
  toolCalls?: ToolCall[]
  reasoningContent?: string
  /** The turn's reasoning blocks, in the order streamed, for a provider that needs them back. */
  reasoningBlocks?: ReasoningBlock[]
  usage?: Usage
}

/** A tool's result, answering the assistant's call `toolCallId`. */
export interface ToolMessage extends MessageMeta {
  role: 'tool'
  toolCallId: string
  name: string
  content: string
  isError?: boolean
  /** True when the tool's `stopAfterCall` ended the run here. */
  stopAfterToolCall?: boolean
}

/** A message of a conversation. */
export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage

/** A tool as the model sees it. */
export interface ToolSpec {
  name: string
  description: string
  parameters: JsonSchema
}

/** One request to a model. */
export interface ModelRequest {
  model: string
  messages: Message[]
  tools: ToolSpec[]
  /** Present when the agent has an `outputSchema`: the answer must be JSON of this schema. */
  responseFormat?: { name: string; schema: JsonSchema }
}

/** Token usage of one model turn. */
export interface Usage {
  inputTokens: number
  outputTokens: number
  cachedInputTokens?: number
  /** Input tokens written to the provider's prompt cache (part of `inputTokens`), priced at `cacheWritePerMillion`. */
  cacheWriteInputTokens?: number
  reasoningTokens?: number
}

/** Why a model turn ended. */
export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter'

/** One piece of a model's streamed answer. */
export type ModelChunk =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  /** A whole reasoning block, after the reasoning deltas of its text: kept with the turn and sent back with it. */
  | { type: 'reasoning-block'; block: ReasoningBlock }
  | { type: 'tool-call'; id: string; name: string; arguments: string }
  | ({ type: 'usage' } & Usage)
  | { type: 'finish'; reason: FinishReason }

/** Prices in USD per million tokens. */
export interface Pricing {
  /** USD per million (uncached) input tokens. */
  inputPerMillion: number
  /** USD per million cached input tokens. @default inputPerMillion */
  cachedInputPerMillion?: number
  /** USD per million output tokens. */
  outputPerMillion: number
  /** USD per million input tokens written to the prompt cache (Anthropic's cache writes). @default inputPerMillion */
  cacheWritePerMillion?: number
}

/** What a provider gets with each request besides the request itself. */
export interface StreamOptions {
  /** Aborts on cancel, on a limit, on close: stop at once. */
  signal: AbortSignal
  /**
   * Which attempt at this model turn this is, from 1. The loop retries a
   * turn that failed with a retryable code; a provider's own client should
   * not retry as well (hearth's providers set `maxRetries: 0`).
   */
  attempt?: number
}

/** A model backend. Adapters (`hearth-runtime/openai`) and `hearth-runtime/testing` implement it. */
export interface ModelProvider {
  /** Streams one model turn. Throws a `ProviderError` on failure; stops when `signal` aborts. */
  stream(request: ModelRequest, options: StreamOptions): AsyncIterable<ModelChunk>
  /** The provider's own price for a model, used when a route sets none. */
  pricing?(model: string): Pricing | undefined
  /** The model's context window in tokens, used when a route sets no `contextWindow`; undefined when unknown. */
  contextWindow?(model: string): number | undefined
  /** A short name shown as `model_provider` (e.g. `OpenAI`). @default the key in `providers` */
  readonly name?: string
  /** The model a route uses when it names none (`Runtime.open({ model })`, a route without `model`). @default none */
  readonly model?: string
}
