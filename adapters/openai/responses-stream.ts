/**
 * Responses API stream events -> the same {@link ModelChunk} stream as Chat
 * Completions: text, refusal and reasoning deltas as they come, each function
 * call once its item is done, then `usage` and `finish` from the terminal
 * `response.completed` / `response.incomplete` event.
 */
import type { ResponseStreamEvent, ResponseUsage } from 'openai/resources/responses/responses'
import { ProviderError } from '../../src/errors.js'
import type { FinishReason, ModelChunk, Usage } from '../../src/model.js'
import { codeOfServerError } from './provider-errors.js'

interface PendingCall {
  outputIndex: number
  callId: string
  name: string
  arguments: string
  emitted: boolean
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** Responses API usage -> {@link Usage}; input includes cached tokens, output includes reasoning tokens. */
export function toResponsesUsage(usage: ResponseUsage): Usage {
  const result: Usage = { inputTokens: count(usage.input_tokens) ?? 0, outputTokens: count(usage.output_tokens) ?? 0 }
  const cached = count(usage.input_tokens_details?.cached_tokens)
  const reasoning = count(usage.output_tokens_details?.reasoning_tokens)
  if (cached !== undefined) result.cachedInputTokens = cached
  if (reasoning !== undefined) result.reasoningTokens = reasoning
  return result
}

function serverError(error: { code?: unknown; message?: unknown } | null | undefined, fallback: string): ProviderError {
  const message = typeof error?.message === 'string' && error.message !== '' ? error.message : fallback
  const code = codeOfServerError(error?.code, undefined, message)
  return new ProviderError(code, `The provider failed the response: ${message}`, { details: { serverCode: error?.code ?? null } })
}

function toCallChunk(call: PendingCall): ModelChunk {
  call.emitted = true
  return { type: 'tool-call', id: call.callId, name: call.name, arguments: call.arguments === '' ? '{}' : call.arguments }
}

/**
 * Translates a Responses API stream. A stream that ends without a terminal
 * event was cut short: `provider.unavailable`.
 */
export async function* responsesChunks(source: AsyncIterable<ResponseStreamEvent>): AsyncGenerator<ModelChunk> {
  const calls = new Map<string, PendingCall>()
  const callOf = (itemId: string | undefined, outputIndex: number | undefined): PendingCall | undefined =>
    (itemId === undefined ? undefined : calls.get(itemId)) ??
    [...calls.values()].find((call) => call.outputIndex === outputIndex)
  for await (const event of source) {
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
      throw new ProviderError('provider.bad_response', 'The provider answered something hearth cannot use: an event without a type')
    }
    switch (event.type) {
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        if (event.delta !== '') yield { type: 'text-delta', text: event.delta }
        break
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        if (event.delta !== '') yield { type: 'reasoning-delta', text: event.delta }
        break
      case 'response.output_item.added':
        if (event.item.type === 'function_call') {
          calls.set(event.item.id ?? event.item.call_id, {
            outputIndex: event.output_index,
            callId: event.item.call_id,
            name: event.item.name,
            arguments: event.item.arguments ?? '',
            emitted: false,
          })
        }
        break
      case 'response.function_call_arguments.delta': {
        const call = callOf(event.item_id, event.output_index)
        if (call !== undefined) call.arguments += event.delta
        break
      }
      case 'response.function_call_arguments.done': {
        const call = callOf(event.item_id, event.output_index)
        if (call !== undefined) call.arguments = event.arguments
        break
      }
      case 'response.output_item.done':
        if (event.item.type === 'function_call') {
          const key = event.item.id ?? event.item.call_id
          const call = callOf(key, event.output_index) ?? {
            outputIndex: event.output_index,
            callId: event.item.call_id,
            name: event.item.name,
            arguments: '',
            emitted: false,
          }
          calls.set(key, call)
          // The finished item is authoritative over the assembled deltas.
          call.callId = event.item.call_id || call.callId
          call.name = event.item.name || call.name
          if (typeof event.item.arguments === 'string') call.arguments = event.item.arguments
          if (!call.emitted) yield toCallChunk(call)
        }
        break
      case 'response.completed':
      case 'response.incomplete': {
        const pending = [...calls.values()].filter((call) => !call.emitted).sort((left, right) => left.outputIndex - right.outputIndex)
        for (const call of pending) yield toCallChunk(call)
        const usage = event.response.usage
        if (usage !== undefined && usage !== null) yield { type: 'usage', ...toResponsesUsage(usage) }
        let reason: FinishReason = calls.size > 0 ? 'tool_calls' : 'stop'
        if (event.type === 'response.incomplete') {
          const why = event.response.incomplete_details?.reason
          reason = why === 'content_filter' ? 'content_filter' : 'length'
        }
        yield { type: 'finish', reason }
        return
      }
      case 'response.failed':
        throw serverError(event.response.error, 'the response failed')
      case 'error':
        throw serverError(event, 'the stream reported an error')
      default:
        break
    }
  }
  throw new ProviderError('provider.unavailable', 'The provider is unavailable: the stream ended before the model finished its answer')
}
