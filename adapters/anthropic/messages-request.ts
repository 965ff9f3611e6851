/**
 * A ModelRequest as an Anthropic Messages API request: system messages
 * become the top-level `system`; each assistant turn sends back its
 * reasoning blocks (unchanged, first), its text and its `tool_use` blocks;
 * tool results go back in one user message, in call order; consecutive
 * messages of one role merge, as the API wants them alternating.
 */
import type { MessageCreateParamsStreaming, MessageParam, ContentBlockParam, Tool } from '@anthropic-ai/sdk/resources/messages/messages'
import type { Message, ModelRequest } from '../../src/model.js'

/** What the request takes from the provider's options. */
export interface MessagesRequestOptions {
  maxTokens: number
  /** Extended thinking with this budget (below `maxTokens`). */
  thinkingBudgetTokens: number | undefined
  /** Fields merged into the body. */
  extraBody: Record<string, unknown>
  /** Cache breakpoints on the system prompt, the last tool and the last message. */
  promptCaching: boolean
}

type Role = 'user' | 'assistant'

/** Tool arguments as the object Anthropic wants: a model's malformed JSON goes back under `_raw`, so nothing is lost. */
function toolInput(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // Falls through: kept as text.
  }
  return { _raw: text }
}

function blocksOf(message: Exclude<Message, { role: 'system' }>): ContentBlockParam[] {
  switch (message.role) {
    case 'user':
      return message.content === '' ? [] : [{ type: 'text', text: message.content }]
    case 'tool':
      return [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content, ...(message.isError === true ? { is_error: true } : {}) }]
    case 'assistant': {
      const blocks: ContentBlockParam[] = []
      for (const block of message.reasoningBlocks ?? []) blocks.push(block.type === 'thinking' ? { type: 'thinking', thinking: block.thinking, signature: block.signature } : { type: 'redacted_thinking', data: block.data })
      if (message.content !== '') blocks.push({ type: 'text', text: message.content })
      for (const call of message.toolCalls ?? []) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) })
      return blocks
    }
  }
}

/** The Messages API body for `request`. */
export function toMessagesRequest(request: ModelRequest, options: MessagesRequestOptions): MessageCreateParamsStreaming {
  const system: string[] = []
  const messages: MessageParam[] = []
  for (const message of request.messages) {
    if (message.role === 'system') {
      if (message.content !== '') system.push(message.content)
      continue
    }
    const blocks = blocksOf(message)
    // An empty turn (a model that answered nothing) has nothing to send: the API refuses empty content.
    if (blocks.length === 0) continue
    const role: Role = message.role === 'assistant' ? 'assistant' : 'user'
    const last = messages[messages.length - 1]
    if (last !== undefined && last.role === role) (last.content as ContentBlockParam[]).push(...blocks)
    else messages.push({ role, content: blocks })
  }
  if (request.responseFormat !== undefined) {
    // The Messages API has no JSON mode: the schema goes into the system prompt, and the loop validates the answer.
    system.push(`Answer with one JSON value only, no prose and no code fence, that matches this JSON Schema:\n${JSON.stringify(request.responseFormat.schema)}`)
  }
  const body: MessageCreateParamsStreaming = { model: request.model, max_tokens: options.maxTokens, messages, stream: true }
  const cache = { type: 'ephemeral' as const }
  if (system.length > 0) body.system = options.promptCaching ? [{ type: 'text', text: system.join('\n\n'), cache_control: cache }] : system.join('\n\n')
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool): Tool => ({ name: tool.name, description: tool.description, input_schema: tool.parameters as Tool['input_schema'] }))
    if (options.promptCaching) (body.tools[body.tools.length - 1] as Tool).cache_control = cache
  }
  const lastBlocks = messages[messages.length - 1]?.content as ContentBlockParam[] | undefined
  const lastBlock = lastBlocks?.[lastBlocks.length - 1]
  // The conversation so far is the prefix the next turn repeats: its end is the last breakpoint.
  if (options.promptCaching && lastBlock !== undefined && lastBlock.type !== 'thinking' && lastBlock.type !== 'redacted_thinking') {
    ;(lastBlock as { cache_control?: typeof cache }).cache_control = cache
  }
  if (options.thinkingBudgetTokens !== undefined) body.thinking = { type: 'enabled', budget_tokens: options.thinkingBudgetTokens }
  for (const [key, value] of Object.entries(options.extraBody)) {
    if (value === undefined) delete (body as unknown as Record<string, unknown>)[key]
    else (body as unknown as Record<string, unknown>)[key] = value
  }
  return body
}
