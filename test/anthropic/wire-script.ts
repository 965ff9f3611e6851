/**
 * A ScriptedTurn (src/testing) as Anthropic Messages API wire replies, so the
 * same scripts drive `scriptedModel` and `anthropicProvider` against the
 * local fake server: `event:` + `data:` frames shaped like the API
 * reference's streaming examples (text, thinking with its signature,
 * redacted thinking, `tool_use` with its input in `input_json_delta`
 * fragments, cumulative usage in `message_delta`, pings). An error step
 * before any output is an HTTP error answer with Anthropic's error body;
 * after output it is an `error` event in the stream (a cut connection for
 * `provider.unavailable`).
 */
import type { ProviderErrorCode } from '../../src/errors.js'
import type { Usage } from '../../src/model.js'
import type { ScriptStep, ScriptedTurn } from '../../src/testing/scripted-model.js'
import type { FakeReply, SseStep } from '../openai/fake-openai-server.js'

let counter = 0

const errorBody = (type: string, message: string) => ({ type: 'error', error: { type, message } })

/** The HTTP answer Anthropic gives for each provider error. */
export const anthropicErrorReplies: Readonly<Record<ProviderErrorCode, FakeReply>> = {
  'provider.auth': { status: 401, body: errorBody('authentication_error', 'invalid x-api-key') },
  'provider.rate_limited': { status: 429, headers: { 'retry-after': '0' }, body: errorBody('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit') },
  'provider.unavailable': { status: 529, body: errorBody('overloaded_error', 'Overloaded') },
  'provider.context_length': { status: 400, body: errorBody('invalid_request_error', 'prompt is too long: 210432 tokens > 200000 maximum') },
  'provider.bad_request': { status: 400, body: errorBody('invalid_request_error', 'max_tokens: Field required') },
  'provider.bad_response': { status: 404, body: errorBody('not_found_error', 'model: claude-nonexistent') },
  'provider.timeout': { hang: true },
}

/** Anthropic's error type sent in a stream's `error` event for each provider error. */
const streamErrorTypes: Readonly<Record<ProviderErrorCode, string>> = {
  'provider.auth': 'authentication_error',
  'provider.rate_limited': 'rate_limit_error',
  'provider.unavailable': 'overloaded_error',
  'provider.context_length': 'request_too_large',
  'provider.bad_response': 'not_found_error',
  'provider.bad_request': 'invalid_request_error',
  'provider.timeout': 'timeout_error',
}

function codeOf(step: Extract<ScriptStep, { error: unknown }>): ProviderErrorCode {
  const error = step.error as { code?: string }
  return (error.code ?? 'provider.unavailable') as ProviderErrorCode
}

const frame = (type: string, data: object): SseStep => ({ event: type, data: { type, ...data } })

/** Splits text in two (a fragment may be empty for short text), as a real stream splits JSON. */
function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2)
  return [text.slice(0, middle), text.slice(middle)]
}

/** A ScriptedTurn as an Anthropic Messages stream (or an HTTP error answer). */
export function toAnthropicReply(turn: ScriptedTurn, model = 'claude-sonnet-4-5'): FakeReply {
  const first = turn[0]
  if (first !== undefined && 'error' in first) return anthropicErrorReplies[codeOf(first)]
  let usage: Usage | undefined
  for (const step of turn) if ('usage' in step) usage = step.usage
  const cached = usage?.cachedInputTokens ?? 0
  const written = usage?.cacheWriteInputTokens ?? 0
  // Anthropic counts input apart from cache reads and writes.
  const startUsage = { input_tokens: Math.max(0, (usage?.inputTokens ?? 0) - cached - written), cache_creation_input_tokens: written, cache_read_input_tokens: cached, output_tokens: 1 }
  const steps: SseStep[] = [
    frame('message_start', { message: { id: `msg_${++counter}`, type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null, usage: startUsage } }),
    { event: 'ping', data: { type: 'ping' } },
  ]
  let index = -1
  let open: 'text' | 'thinking' | undefined
  const close = (): void => {
    if (open !== undefined) steps.push(frame('content_block_stop', { index }))
    open = undefined
  }
  const begin = (kind: 'text' | 'thinking', block: object): void => {
    if (open === kind) return
    close()
    index++
    open = kind
    steps.push(frame('content_block_start', { index, content_block: block }))
  }
  let calledTools = false
  let finish: string | undefined
  for (const step of turn) {
    if ('text' in step) {
      begin('text', { type: 'text', text: '' })
      steps.push(frame('content_block_delta', { index, delta: { type: 'text_delta', text: step.text } }))
    } else if ('reasoning' in step) {
      begin('thinking', { type: 'thinking', thinking: '', signature: '' })
      if (step.reasoning !== '') steps.push(frame('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: step.reasoning } }))
      if (step.signature !== undefined) {
        for (const part of halves(step.signature)) steps.push(frame('content_block_delta', { index, delta: { type: 'signature_delta', signature: part } }))
        close()
      }
    } else if ('redactedReasoning' in step) {
      close()
      index++
      steps.push(frame('content_block_start', { index, content_block: { type: 'redacted_thinking', data: step.redactedReasoning } }))
      steps.push(frame('content_block_stop', { index }))
    } else if ('toolCall' in step) {
      close()
      index++
      calledTools = true
      const call = step.toolCall
      const text = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {})
      steps.push(frame('content_block_start', { index, content_block: { type: 'tool_use', id: call.id ?? `toolu_${++counter}`, name: call.name, input: {} } }))
      for (const part of halves(text)) steps.push(frame('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } }))
      steps.push(frame('content_block_stop', { index }))
    } else if ('delay' in step) steps.push({ delay: step.delay })
    else if ('finish' in step) finish = step.finish
    else if ('error' in step) {
      const code = codeOf(step)
      if (code === 'provider.unavailable') return { stream: [...steps, { cut: true }] }
      if (code === 'provider.timeout') return { stream: [...steps, { stall: true }] }
      return { stream: [...steps, { event: 'error', data: errorBody(streamErrorTypes[code], `Scripted ${code}`) }] }
    }
  }
  close()
  const stopReason = finish === 'length' ? 'max_tokens' : finish === 'content_filter' ? 'refusal' : calledTools ? 'tool_use' : 'end_turn'
  const finalUsage: Record<string, unknown> = { output_tokens: usage?.outputTokens ?? 0 }
  if (usage?.reasoningTokens !== undefined) finalUsage.output_tokens_details = { thinking_tokens: usage.reasoningTokens }
  steps.push(frame('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: finalUsage }))
  steps.push(frame('message_stop', {}))
  return { stream: steps }
}
