/**
 * A ModelRequest as the AI SDK's prompt and call options: system text,
 * user text, assistant text, reasoning and tool calls (their input parsed:
 * the specification wants a value), tool results as text (`error-text` for a
 * failed call), tools as functions with their JSON Schema.
 */
import type { ModelRequest } from '../../src/model.js'
import type { CallOptions, PromptMessage } from './language-model.js'

function parsedInput(text: string): unknown {
  try {
    return JSON.parse(text === '' ? '{}' : text)
  } catch {
    return { _raw: text }
  }
}

/** The `doStream` options for `request`, with `extra` (output limit, provider options) merged in. */
export function toCallOptions(request: ModelRequest, signal: AbortSignal, extra: Pick<CallOptions, 'maxOutputTokens' | 'providerOptions'>): CallOptions {
  const prompt: PromptMessage[] = []
  const names = new Map<string, string>()
  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
        prompt.push({ role: 'system', content: message.content })
        break
      case 'user':
        prompt.push({ role: 'user', content: [{ type: 'text', text: message.content }] })
        break
      case 'assistant': {
        const content: Extract<PromptMessage, { role: 'assistant' }>['content'] = []
        if (message.reasoningContent !== undefined && message.reasoningContent !== '') content.push({ type: 'reasoning', text: message.reasoningContent })
        if (message.content !== '') content.push({ type: 'text', text: message.content })
        for (const call of message.toolCalls ?? []) {
          names.set(call.id, call.name)
          content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: parsedInput(call.arguments) })
        }
        if (content.length > 0) prompt.push({ role: 'assistant', content })
        break
      }
      case 'tool': {
        const part = {
          type: 'tool-result' as const,
          toolCallId: message.toolCallId,
          toolName: message.name,
          output: message.isError === true ? { type: 'error-text' as const, value: message.content } : { type: 'text' as const, value: message.content },
        }
        // A turn's results go in one tool message, in call order.
        const last = prompt[prompt.length - 1]
        if (last?.role === 'tool') last.content.push(part)
        else prompt.push({ role: 'tool', content: [part] })
        break
      }
    }
  }
  const options: CallOptions = { prompt, abortSignal: signal }
  if (request.tools.length > 0) options.tools = request.tools.map((tool) => ({ type: 'function', name: tool.name, description: tool.description, inputSchema: tool.parameters }))
  if (request.responseFormat !== undefined) options.responseFormat = { type: 'json', schema: request.responseFormat.schema, name: request.responseFormat.name }
  if (extra.maxOutputTokens !== undefined) options.maxOutputTokens = extra.maxOutputTokens
  if (extra.providerOptions !== undefined) options.providerOptions = extra.providerOptions
  return options
}
