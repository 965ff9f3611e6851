/**
 * An AI SDK `doStream` result as ModelChunks: text and reasoning deltas,
 * tool calls (not those the provider executed itself), usage (version 2's
 * flat counts or version 3's breakdown) and the finish last. An `error`
 * part, or a thrown error, becomes a ProviderError; an aborted signal ends
 * the reading at once with its reason, and cancels the stream.
 */
import { ProviderError } from '../../src/errors.js'
import type { FinishReason, ModelChunk, Usage } from '../../src/model.js'
import { untilAborted } from '../../src/provider-stream.js'
import { toProviderError } from './errors.js'
import type { CallOptions, DoStream, LanguageModel, StreamPart, UsageV2, UsageV3 } from './language-model.js'

const finishReasons: Readonly<Record<string, FinishReason>> = { stop: 'stop', length: 'length', 'content-filter': 'content_filter', 'tool-calls': 'tool_calls' }

/** hearth's usage from a `finish` part; undefined when the model counted nothing. */
export function usageOf(usage: UsageV2 | UsageV3 | undefined): Usage | undefined {
  if (usage === undefined || usage === null) return undefined
  if (typeof usage.inputTokens === 'object' && usage.inputTokens !== null) {
    const { inputTokens: input, outputTokens: output } = usage as UsageV3
    const parts = (input.noCache ?? 0) + (input.cacheRead ?? 0) + (input.cacheWrite ?? 0)
    const inputTokens = input.total ?? parts
    const outputTokens = output?.total ?? 0
    if (input.total === undefined && parts === 0 && output?.total === undefined) return undefined
    return {
      inputTokens,
      outputTokens,
      cachedInputTokens: input.cacheRead ?? 0,
      ...(input.cacheWrite !== undefined && input.cacheWrite > 0 ? { cacheWriteInputTokens: input.cacheWrite } : {}),
      reasoningTokens: output?.reasoning ?? 0,
    }
  }
  const flat = usage as UsageV2
  if (flat.inputTokens === undefined && flat.outputTokens === undefined) return undefined
  return { inputTokens: flat.inputTokens ?? 0, outputTokens: flat.outputTokens ?? 0, cachedInputTokens: flat.cachedInputTokens ?? 0, reasoningTokens: flat.reasoningTokens ?? 0 }
}

function finishOf(reason: string | { unified: string } | undefined, calledTools: boolean): FinishReason {
  const name = typeof reason === 'string' ? reason : reason?.unified
  const mapped = name === undefined ? undefined : finishReasons[name]
  return mapped ?? (calledTools ? 'tool_calls' : 'stop')
}

async function read<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  try {
    return await untilAborted(Promise.resolve(promise), signal)
  } catch (error) {
    if (signal.aborted) throw signal.reason
    throw toProviderError(error)
  }
}

/** The chunks of one `doStream` call on `model`. */
export async function* streamChunks(model: LanguageModel, options: CallOptions, signal: AbortSignal): AsyncGenerator<ModelChunk> {
  const { stream } = await read((model.doStream as DoStream).call(model, options), signal)
  const reader = stream.getReader()
  let finished = false
  let calledTools = false
  try {
    for (;;) {
      const next = await read(reader.read(), signal)
      if (next.done) break
      const part = next.value as StreamPart
      switch (part.type) {
        case 'text-delta': {
          const delta = (part as { delta?: unknown }).delta
          if (typeof delta === 'string' && delta !== '') yield { type: 'text-delta', text: delta }
          break
        }
        case 'reasoning-delta': {
          const delta = (part as { delta?: unknown }).delta
          if (typeof delta === 'string' && delta !== '') yield { type: 'reasoning-delta', text: delta }
          break
        }
        case 'tool-call': {
          const call = part as Extract<StreamPart, { type: 'tool-call'; toolCallId: string }>
          // A call the provider ran itself (a hosted search) is not one for hearth's tools.
          if (call.providerExecuted === true) break
          calledTools = true
          yield { type: 'tool-call', id: call.toolCallId, name: call.toolName, arguments: typeof call.input === 'string' ? call.input : JSON.stringify(call.input ?? {}) }
          break
        }
        case 'finish': {
          const finish = part as Extract<StreamPart, { type: 'finish'; finishReason: unknown }>
          const usage = usageOf(finish.usage)
          if (usage !== undefined) yield { type: 'usage', ...usage }
          finished = true
          yield { type: 'finish', reason: finishOf(finish.finishReason, calledTools) }
          break
        }
        case 'error':
          throw toProviderError((part as { error: unknown }).error)
      }
    }
  } finally {
    if (!finished) reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
  if (signal.aborted) throw signal.reason
  if (!finished) throw new ProviderError('provider.unavailable', `Model ${model.modelId} ended its stream without a finish part`)
}
