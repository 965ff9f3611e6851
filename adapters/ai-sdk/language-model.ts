/**
 * The parts of the AI SDK's language model specification (versions 2 and 3,
 * what `ai` 5 and 6 providers return) that hearth uses, as structural types,
 * so a user needs no `@ai-sdk/provider` installed and any copy of it fits.
 */

/** A message of the AI SDK's prompt (the `LanguageModelV2Prompt`/`V3Prompt` shapes hearth sends). */
export type PromptMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: { type: 'text'; text: string }[] }
  | {
      role: 'assistant'
      content: ({ type: 'text'; text: string } | { type: 'reasoning'; text: string } | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown })[]
    }
  | {
      role: 'tool'
      content: { type: 'tool-result'; toolCallId: string; toolName: string; output: { type: 'text'; value: string } | { type: 'error-text'; value: string } }[]
    }

/** The call options hearth passes to `doStream`. */
export interface CallOptions {
  prompt: PromptMessage[]
  tools?: { type: 'function'; name: string; description?: string; inputSchema: Record<string, unknown> }[]
  responseFormat?: { type: 'json'; schema?: Record<string, unknown>; name?: string }
  maxOutputTokens?: number
  abortSignal?: AbortSignal
  providerOptions?: Record<string, Record<string, unknown>>
}

/** Usage in a version 2 `finish` part: flat counts. */
export interface UsageV2 {
  inputTokens: number | undefined
  outputTokens: number | undefined
  reasoningTokens?: number | undefined
  cachedInputTokens?: number | undefined
}

/** Usage in a version 3 `finish` part: input and output broken down. */
export interface UsageV3 {
  inputTokens: { total: number | undefined; noCache?: number | undefined; cacheRead?: number | undefined; cacheWrite?: number | undefined }
  outputTokens: { total: number | undefined; text?: number | undefined; reasoning?: number | undefined }
}

/** The stream parts hearth reads (others, such as `stream-start`, `source` or `raw`, are passed over). */
export type StreamPart =
  | { type: 'text-delta'; id?: string; delta: string }
  | { type: 'reasoning-delta'; id?: string; delta: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: string; providerExecuted?: boolean }
  | { type: 'finish'; usage: UsageV2 | UsageV3; finishReason: string | { unified: string; raw?: string } }
  | { type: 'error'; error: unknown }
  | { type: string; [key: string]: unknown }

/**
 * An AI SDK language model of specification version 2 or 3
 * (`LanguageModelV2`, `LanguageModelV3`). `doStream` takes the call options
 * above; its parameter is typed `never` here so that every provider's own,
 * richer options type fits.
 */
export interface LanguageModel {
  readonly specificationVersion: string
  readonly provider: string
  readonly modelId: string
  doStream(options: never): PromiseLike<{ stream: ReadableStream<unknown> }>
}

/** `doStream` as hearth calls it. */
export type DoStream = (options: CallOptions) => PromiseLike<{ stream: ReadableStream<StreamPart> }>
