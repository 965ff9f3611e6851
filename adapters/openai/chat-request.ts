/**
 * A {@link ModelRequest} as a Chat Completions request body. Only the fields
 * the API defines are sent: hearth's own message fields (createdAt,
 * fromHistory, usage, isError, reasoningContent...) stay behind.
 */
import type {
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionFunctionTool,
} from 'openai/resources/chat/completions'
import type { Message, ModelRequest } from '../../src/model.js'
import { isStrictCompatible, toSchemaName } from './strict-schema.js'

function toChatMessage(message: Message): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content }
    case 'user':
      return { role: 'user', content: message.content }
    case 'assistant': {
      const calls = message.toolCalls ?? []
      if (calls.length === 0) return { role: 'assistant', content: message.content }
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
      }
    }
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content }
  }
}

/** The streaming Chat Completions body for `request`, with `extraBody` merged over it. */
export function toChatRequest(
  request: ModelRequest,
  extraBody: Readonly<Record<string, unknown>>,
): ChatCompletionCreateParamsStreaming {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map(toChatMessage),
    stream_options: { include_usage: true },
  }
  if (request.tools.length > 0) {
    body.tools = request.tools.map(
      (tool): ChatCompletionFunctionTool => ({
        type: 'function',
        function: {
          name: tool.name,
          description: tool.description,
          parameters: tool.parameters,
          // Only sent when true: many compatible servers do not know the field.
          ...(isStrictCompatible(tool.parameters) ? { strict: true } : {}),
        },
      }),
    )
  }
  if (request.responseFormat !== undefined) {
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: toSchemaName(request.responseFormat.name),
        schema: request.responseFormat.schema,
        strict: isStrictCompatible(request.responseFormat.schema),
      },
    }
  }
  return { ...body, ...extraBody, stream: true } as unknown as ChatCompletionCreateParamsStreaming
}
