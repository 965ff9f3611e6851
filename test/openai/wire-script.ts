/**
 * A ScriptedTurn (src/testing) as OpenAI wire replies, so the same scripts
 * drive `scriptedModel` and `openaiProvider` against the fake server:
 * Chat Completions chunks or Responses API events, shaped like the API
 * reference's streaming examples. An error step before any output is an HTTP
 * error answer; after output it is an error in the stream (a cut connection
 * for `provider.unavailable`, a malformed chunk for `provider.bad_response`,
 * silence for `provider.timeout`).
 */
import type { ProviderErrorCode } from '../../src/errors.js'
import type { Usage } from '../../src/model.js'
import type { ScriptStep, ScriptedTurn } from '../../src/testing/scripted-model.js'
import type { FakeReply, RecordedRequest, SseStep } from './fake-openai-server.js'

const created = 1_767_225_600
let callCounter = 0

function openaiError(message: string, type: string, code: string | null, param: string | null = null): object {
  return { error: { message, type, param, code } }
}

/** The HTTP answer OpenAI gives for each provider error. */
export const httpErrorReplies: Readonly<Record<ProviderErrorCode, FakeReply>> = {
  'provider.auth': {
    status: 401,
    body: openaiError('Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'),
  },
  'provider.rate_limited': {
    status: 429,
    headers: { 'retry-after': '0' },
    body: openaiError('Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.', 'requests', 'rate_limit_exceeded'),
  },
  'provider.unavailable': {
    status: 503,
    headers: { 'retry-after': '0' },
    body: openaiError('The server is overloaded or not ready yet.', 'server_error', null),
  },
  'provider.context_length': {
    status: 400,
    body: openaiError(
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
      'invalid_request_error',
      'context_length_exceeded',
      'messages',
    ),
  },
  'provider.bad_response': { stream: [{ raw: 'data: {"id":"chatcmpl-broken","choices":[{"index":0,"delta":\n\n' }] },
  'provider.bad_request': { status: 400, body: openaiError("Invalid value for 'temperature': must be at most 2.", 'invalid_request_error', 'invalid_value', 'temperature') },
  'provider.timeout': { hang: true },
}

/** The OpenAI error `code` sent inside a stream for each provider error. */
const streamErrorCodes: Readonly<Record<ProviderErrorCode, string>> = {
  'provider.auth': 'invalid_api_key',
  'provider.rate_limited': 'rate_limit_exceeded',
  'provider.unavailable': 'server_error',
  'provider.context_length': 'context_length_exceeded',
  'provider.bad_response': 'invalid_response',
  'provider.bad_request': 'invalid_value',
  'provider.timeout': 'timeout',
}

function codeOf(step: Extract<ScriptStep, { error: unknown }>): ProviderErrorCode {
  const code = (step.error as { code?: unknown }).code
  return typeof code === 'string' && code in streamErrorCodes ? (code as ProviderErrorCode) : 'provider.unavailable'
}

/** The steps of a stream that fails with `code` after output began. */
function midStreamError(code: ProviderErrorCode, frame: (error: object) => SseStep): SseStep[] {
  if (code === 'provider.unavailable') return [{ cut: true }]
  if (code === 'provider.bad_response') return [{ raw: 'data: {"choices":[{"delta":\n\n' }]
  if (code === 'provider.timeout') return [{ stall: true }]
  return [frame({ message: `Scripted ${code}`, type: 'server_error', param: null, code: streamErrorCodes[code] })]
}

/** An error step before any output answers the whole request. */
function leadingError(turn: ScriptedTurn): FakeReply | undefined {
  let delay = 0
  for (const step of turn) {
    if ('delay' in step) delay += step.delay
    else if ('error' in step) {
      const reply = httpErrorReplies[codeOf(step)]
      return 'status' in reply ? { ...reply, delay } : reply
    } else return undefined
  }
  return undefined
}

function argumentsText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? {})
}

function halves(text: string): [string, string] {
  const middle = Math.ceil(text.length / 2)
  return [text.slice(0, middle), text.slice(middle)]
}

function chatUsage(usage: Usage): object {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0, audio_tokens: 0 },
  }
}

/** A ScriptedTurn as a Chat Completions SSE stream (or an HTTP error answer). */
export function toChatReply(turn: ScriptedTurn, model = 'gpt-4o-mini'): FakeReply {
  const leading = leadingError(turn)
  if (leading !== undefined) return leading
  const id = `chatcmpl-${++callCounter}`
  const chunk = (delta: object, finishReason: string | null = null): SseStep => ({
    data: {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    },
  })
  const steps: SseStep[] = [chunk({ role: 'assistant', content: '', refusal: null })]
  let toolIndex = 0
  let usage: Usage | undefined
  let finish: string | undefined
  for (const step of turn) {
    if ('text' in step) steps.push(chunk({ content: step.text }))
    else if ('reasoning' in step) steps.push(chunk({ reasoning_content: step.reasoning }))
    else if ('toolCall' in step) {
      const index = toolIndex++
      const [first, second] = halves(argumentsText(step.toolCall.arguments))
      const callId = step.toolCall.id ?? `call_wire_${++callCounter}`
      steps.push(chunk({ tool_calls: [{ index, id: callId, type: 'function', function: { name: step.toolCall.name, arguments: '' } }] }))
      steps.push(chunk({ tool_calls: [{ index, function: { arguments: first } }] }))
      steps.push(chunk({ tool_calls: [{ index, function: { arguments: second } }] }))
    } else if ('usage' in step) usage = step.usage
    else if ('delay' in step) steps.push({ delay: step.delay })
    else if ('finish' in step) finish = step.finish
    else if ('error' in step) {
      return { stream: [...steps, ...midStreamError(codeOf(step), (error) => ({ data: { error } }))] }
    }
  }
  steps.push(chunk({}, finish ?? (toolIndex > 0 ? 'tool_calls' : 'stop')))
  if (usage !== undefined) steps.push({ data: { id, object: 'chat.completion.chunk', created, model, choices: [], usage: chatUsage(usage) } })
  steps.push({ done: true })
  return { stream: steps }
}

/** A ScriptedTurn as a Responses API event stream (or an HTTP error answer). */
export function toResponsesReply(turn: ScriptedTurn, model = 'gpt-4o-mini'): FakeReply {
  const leading = leadingError(turn)
  if (leading !== undefined) return leading
  const responseId = `resp_${++callCounter}`
  let sequence = 0
  const event = (type: string, fields: object): SseStep => ({ event: type, data: { type, sequence_number: sequence++, ...fields } })
  const response = (status: string, extra: object = {}): object => ({
    id: responseId,
    object: 'response',
    created_at: created,
    status,
    model,
    output: [],
    error: null,
    incomplete_details: null,
    usage: null,
    ...extra,
  })
  const steps: SseStep[] = [event('response.created', { response: response('in_progress') }), event('response.in_progress', { response: response('in_progress') })]
  let outputIndex = -1
  let open: { kind: 'message' | 'reasoning'; id: string; text: string } | undefined
  const closeOpen = (): void => {
    if (open === undefined) return
    const { id, text } = open
    if (open.kind === 'message') {
      const part = { type: 'output_text', text, annotations: [] }
      steps.push(event('response.output_text.done', { item_id: id, output_index: outputIndex, content_index: 0, text, logprobs: [] }))
      steps.push(event('response.content_part.done', { item_id: id, output_index: outputIndex, content_index: 0, part }))
      steps.push(event('response.output_item.done', { output_index: outputIndex, item: { id, type: 'message', status: 'completed', role: 'assistant', content: [part] } }))
    } else {
      const part = { type: 'summary_text', text }
      steps.push(event('response.reasoning_summary_text.done', { item_id: id, output_index: outputIndex, summary_index: 0, text }))
      steps.push(event('response.reasoning_summary_part.done', { item_id: id, output_index: outputIndex, summary_index: 0, part }))
      steps.push(event('response.output_item.done', { output_index: outputIndex, item: { id, type: 'reasoning', summary: [part] } }))
    }
    open = undefined
  }
  const openItem = (kind: 'message' | 'reasoning'): { id: string; text: string } => {
    if (open?.kind === kind) return open
    closeOpen()
    outputIndex++
    const id = `${kind === 'message' ? 'msg' : 'rs'}_${++callCounter}`
    open = { kind, id, text: '' }
    if (kind === 'message') {
      steps.push(event('response.output_item.added', { output_index: outputIndex, item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } }))
      steps.push(event('response.content_part.added', { item_id: id, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }))
    } else {
      steps.push(event('response.output_item.added', { output_index: outputIndex, item: { id, type: 'reasoning', summary: [] } }))
      steps.push(event('response.reasoning_summary_part.added', { item_id: id, output_index: outputIndex, summary_index: 0, part: { type: 'summary_text', text: '' } }))
    }
    return open
  }
  let usage: Usage | undefined
  let finish: string | undefined
  for (const step of turn) {
    if ('text' in step) {
      const item = openItem('message')
      item.text += step.text
      steps.push(event('response.output_text.delta', { item_id: item.id, output_index: outputIndex, content_index: 0, delta: step.text, logprobs: [] }))
    } else if ('reasoning' in step) {
      const item = openItem('reasoning')
      item.text += step.reasoning
      steps.push(event('response.reasoning_summary_text.delta', { item_id: item.id, output_index: outputIndex, summary_index: 0, delta: step.reasoning }))
    } else if ('toolCall' in step) {
      closeOpen()
      outputIndex++
      const id = `fc_${++callCounter}`
      const callId = step.toolCall.id ?? `call_wire_${++callCounter}`
      const text = argumentsText(step.toolCall.arguments)
      const item = { id, type: 'function_call', status: 'in_progress', arguments: '', call_id: callId, name: step.toolCall.name }
      steps.push(event('response.output_item.added', { output_index: outputIndex, item }))
      for (const delta of halves(text)) steps.push(event('response.function_call_arguments.delta', { item_id: id, output_index: outputIndex, delta }))
      steps.push(event('response.function_call_arguments.done', { item_id: id, output_index: outputIndex, arguments: text }))
      steps.push(event('response.output_item.done', { output_index: outputIndex, item: { ...item, status: 'completed', arguments: text } }))
    } else if ('usage' in step) usage = step.usage
    else if ('delay' in step) steps.push({ delay: step.delay })
    else if ('finish' in step) finish = step.finish
    else if ('error' in step) {
      return { stream: [...steps, ...midStreamError(codeOf(step), (error) => event('error', { ...error }))] }
    }
  }
  closeOpen()
  const responseUsage =
    usage === undefined
      ? null
      : {
          input_tokens: usage.inputTokens,
          input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
          output_tokens: usage.outputTokens,
          output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
          total_tokens: usage.inputTokens + usage.outputTokens,
        }
  if (finish === 'length' || finish === 'content_filter') {
    const reason = finish === 'length' ? 'max_output_tokens' : 'content_filter'
    steps.push(event('response.incomplete', { response: response('incomplete', { incomplete_details: { reason }, usage: responseUsage }) }))
  } else {
    steps.push(event('response.completed', { response: response('completed', { usage: responseUsage }) }))
  }
  return { stream: steps }
}

/** Answers each request with `turn`, in the wire format of the endpoint it was sent to. */
export function replyWithTurn(turn: ScriptedTurn): (request: RecordedRequest) => FakeReply {
  return (request) => (request.path.endsWith('/responses') ? toResponsesReply(turn, request.body?.model) : toChatReply(turn, request.body?.model))
}
