/**
 * An Anthropic Messages stream as ModelChunks: text and thinking deltas as
 * they come; a `tool_use` block as one tool call once its `input_json_delta`
 * fragments are all in; each thinking block (with its signature) and each
 * redacted thinking block whole, at its end, to be sent back with the turn;
 * usage once, from `message_start` and the cumulative `message_delta`; the
 * finish last. A stream that ends before `message_stop` fails with
 * `provider.unavailable`, so the loop tries the turn again.
 */
import type { RawMessageStreamEvent, StopReason, Usage as AnthropicUsage, MessageDeltaUsage } from '@anthropic-ai/sdk/resources/messages/messages'
import { ProviderError } from '../../src/errors.js'
import type { FinishReason, ModelChunk } from '../../src/model.js'

type OpenBlock =
  | { type: 'text' }
  | { type: 'tool'; id: string; name: string; json: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted'; data: string }
  | { type: 'other' }

const finishReasons: Readonly<Record<StopReason, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  refusal: 'content_filter',
}

/** Token counts as Anthropic reports them: input excludes cache reads and writes. */
interface Counts {
  input: number
  cacheWrite: number
  cacheRead: number
  output: number
  thinking: number
}

function absorb(counts: Counts, usage: AnthropicUsage | MessageDeltaUsage): void {
  // message_delta's counts are cumulative, and may leave input out (null): keep what message_start said.
  if (usage.input_tokens !== null && usage.input_tokens !== undefined) counts.input = usage.input_tokens
  if (usage.cache_creation_input_tokens !== null && usage.cache_creation_input_tokens !== undefined) counts.cacheWrite = usage.cache_creation_input_tokens
  if (usage.cache_read_input_tokens !== null && usage.cache_read_input_tokens !== undefined) counts.cacheRead = usage.cache_read_input_tokens
  if (typeof usage.output_tokens === 'number') counts.output = usage.output_tokens
  const thinking = usage.output_tokens_details?.thinking_tokens
  if (typeof thinking === 'number') counts.thinking = thinking
}

/** The chunks of one Messages stream. */
export async function* messagesChunks(events: AsyncIterable<RawMessageStreamEvent>): AsyncGenerator<ModelChunk> {
  const open = new Map<number, OpenBlock>()
  const counts: Counts = { input: 0, cacheWrite: 0, cacheRead: 0, output: 0, thinking: 0 }
  let sawUsage = false
  let stopReason: StopReason | null = null
  let calledTools = false
  let stopped = false
  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        absorb(counts, event.message.usage)
        sawUsage = true
        break
      case 'content_block_start': {
        const block = event.content_block
        if (block.type === 'text') {
          open.set(event.index, { type: 'text' })
          if (block.text !== '') yield { type: 'text-delta', text: block.text }
        } else if (block.type === 'thinking') {
          open.set(event.index, { type: 'thinking', thinking: block.thinking, signature: block.signature })
          if (block.thinking !== '') yield { type: 'reasoning-delta', text: block.thinking }
        } else if (block.type === 'redacted_thinking') open.set(event.index, { type: 'redacted', data: block.data })
        else if (block.type === 'tool_use') open.set(event.index, { type: 'tool', id: block.id, name: block.name, json: '' })
        // Server tools (web search and the like) run at Anthropic: their blocks are not calls for hearth.
        else open.set(event.index, { type: 'other' })
        break
      }
      case 'content_block_delta': {
        const block = open.get(event.index)
        const delta = event.delta
        if (delta.type === 'text_delta') {
          if (delta.text !== '') yield { type: 'text-delta', text: delta.text }
        } else if (delta.type === 'thinking_delta') {
          if (block?.type === 'thinking') block.thinking += delta.thinking
          if (delta.thinking !== '') yield { type: 'reasoning-delta', text: delta.thinking }
        } else if (delta.type === 'signature_delta') {
          if (block?.type === 'thinking') block.signature += delta.signature
        } else if (delta.type === 'input_json_delta') {
          if (block?.type === 'tool') block.json += delta.partial_json
        }
        break
      }
      case 'content_block_stop': {
        const block = open.get(event.index)
        open.delete(event.index)
        if (block?.type === 'tool') {
          calledTools = true
          yield { type: 'tool-call', id: block.id, name: block.name, arguments: block.json === '' ? '{}' : block.json }
        } else if (block?.type === 'thinking') yield { type: 'reasoning-block', block: { type: 'thinking', thinking: block.thinking, signature: block.signature } }
        else if (block?.type === 'redacted') yield { type: 'reasoning-block', block: { type: 'redacted_thinking', data: block.data } }
        break
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason
        absorb(counts, event.usage)
        sawUsage = true
        break
      case 'message_stop':
        stopped = true
        break
    }
  }
  if (!stopped) throw new ProviderError('provider.unavailable', 'The provider is unavailable: the stream ended before message_stop')
  if (sawUsage) {
    yield {
      type: 'usage',
      inputTokens: counts.input + counts.cacheWrite + counts.cacheRead,
      outputTokens: counts.output,
      cachedInputTokens: counts.cacheRead,
      ...(counts.cacheWrite > 0 ? { cacheWriteInputTokens: counts.cacheWrite } : {}),
      ...(counts.thinking > 0 ? { reasoningTokens: counts.thinking } : {}),
    }
  }
  yield { type: 'finish', reason: stopReason === null ? (calledTools ? 'tool_calls' : 'stop') : (finishReasons[stopReason] ?? 'stop') }
}
