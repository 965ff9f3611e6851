/**
 * Chat Completions stream chunks -> hearth's {@link ModelChunk}s: text and
 * reasoning deltas as they come, tool calls assembled from their fragments
 * and emitted once complete (in `index` order), then one `usage` chunk (when
 * the server sent usage) and one `finish` chunk last.
 */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import type { CompletionUsage } from 'openai/resources/completions'
import { ProviderError } from '../../src/errors.js'
import { createId } from '../../src/ids.js'
import type { FinishReason, ModelChunk, Usage } from '../../src/model.js'

type ToolCallFragment = ChatCompletionChunk.Choice.Delta.ToolCall

/** Fields compatible servers add to a delta (DeepSeek, vLLM, LM Studio: `reasoning_content`; Ollama, OpenRouter: `reasoning`). */
interface ReasoningDelta {
  reasoning_content?: unknown
  reasoning?: unknown
}

/** DeepSeek reports cached input tokens outside `prompt_tokens_details`. */
interface CompatibleUsage extends CompletionUsage {
  prompt_cache_hit_tokens?: number
}

interface PendingCall {
  index: number
  id: string | undefined
  name: string
  arguments: string
}

function badResponse(message: string): ProviderError {
  return new ProviderError('provider.bad_response', `The provider answered something hearth cannot use: ${message}`)
}

/** Joins the fragments of a turn's tool calls, keyed by their `index`. */
class ToolCallAssembler {
  private calls: PendingCall[] = []

  add(fragment: ToolCallFragment): void {
    const index = typeof fragment.index === 'number' ? fragment.index : undefined
    let call =
      index === undefined
        ? fragment.id
          ? undefined
          : this.calls.at(-1)
        : this.calls.findLast((candidate) => candidate.index === index)
    // Some servers number every parallel call 0; a new id there is a new call.
    if (call !== undefined && fragment.id && call.id !== undefined && fragment.id !== call.id) call = undefined
    if (call === undefined) {
      call = { index: index ?? this.calls.length, id: undefined, name: '', arguments: '' }
      this.calls.push(call)
    }
    if (fragment.id) call.id = fragment.id
    if (fragment.function?.name) call.name = fragment.function.name
    if (typeof fragment.function?.arguments === 'string') call.arguments += fragment.function.arguments
  }

  get size(): number {
    return this.calls.length
  }

  *drain(): Generator<ModelChunk> {
    const calls = this.calls.sort((left, right) => left.index - right.index)
    this.calls = []
    for (const call of calls) {
      if (call.name === '') throw badResponse(`tool call ${call.index} has no function name`)
      yield {
        type: 'tool-call',
        id: call.id ?? createId('call'),
        name: call.name,
        // A call without arguments is sent as "" by some servers; tools expect an object.
        arguments: call.arguments === '' ? '{}' : call.arguments,
      }
    }
  }
}

function toFinishReason(reason: string, calledTools: boolean): FinishReason {
  if (reason === 'length' || reason === 'content_filter') return reason
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls'
  // Some compatible servers say `stop` after tool calls.
  return calledTools ? 'tool_calls' : 'stop'
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** Chat Completions usage -> {@link Usage}; input includes cached tokens, output includes reasoning tokens. */
export function toChatUsage(usage: CompatibleUsage): Usage {
  const result: Usage = { inputTokens: count(usage.prompt_tokens) ?? 0, outputTokens: count(usage.completion_tokens) ?? 0 }
  const cached = count(usage.prompt_tokens_details?.cached_tokens) ?? count(usage.prompt_cache_hit_tokens)
  const reasoning = count(usage.completion_tokens_details?.reasoning_tokens)
  if (cached !== undefined) result.cachedInputTokens = cached
  if (reasoning !== undefined) result.reasoningTokens = reasoning
  return result
}

/**
 * Translates a Chat Completions stream. A stream that ends before its choice
 * has a `finish_reason` was cut short: `provider.unavailable`.
 */
export async function* chatCompletionChunks(source: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ModelChunk> {
  const calls = new ToolCallAssembler()
  let calledTools = false
  let finishReason: FinishReason | undefined
  let usage: Usage | undefined
  for await (const chunk of source) {
    if (typeof chunk !== 'object' || chunk === null) throw badResponse('a stream chunk is not a JSON object')
    if (typeof chunk.usage === 'object' && chunk.usage !== null) usage = toChatUsage(chunk.usage)
    if (chunk.choices === undefined || chunk.choices === null) continue
    if (!Array.isArray(chunk.choices)) throw badResponse('`choices` of a stream chunk is not an array')
    const choice = chunk.choices.find((candidate) => (candidate?.index ?? 0) === 0)
    if (choice === undefined) continue
    const delta = (choice.delta ?? {}) as ChatCompletionChunk.Choice.Delta & ReasoningDelta
    const reasoning = delta.reasoning_content ?? delta.reasoning
    if (typeof reasoning === 'string' && reasoning !== '') yield { type: 'reasoning-delta', text: reasoning }
    if (typeof delta.content === 'string' && delta.content !== '') yield { type: 'text-delta', text: delta.content }
    // A refusal is the model's answer in place of the requested JSON; the user should see it.
    if (typeof delta.refusal === 'string' && delta.refusal !== '') yield { type: 'text-delta', text: delta.refusal }
    if (Array.isArray(delta.tool_calls)) {
      for (const fragment of delta.tool_calls) calls.add(fragment)
    }
    if (typeof choice.finish_reason === 'string' && (choice.finish_reason as string) !== '') {
      calledTools ||= calls.size > 0
      finishReason = toFinishReason(choice.finish_reason, calledTools)
      yield* calls.drain()
    }
  }
  if (finishReason === undefined) {
    throw new ProviderError('provider.unavailable', 'The provider is unavailable: the stream ended before the model finished its answer')
  }
  yield* calls.drain()
  if (usage !== undefined) yield { type: 'usage', ...usage }
  yield { type: 'finish', reason: finishReason }
}
