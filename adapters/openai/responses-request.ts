/**
 * A {@link ModelRequest} as a Responses API request body: the conversation
 * becomes `input` items (messages, `function_call` and `function_call_output`
 * items), and hearth keeps the history, so nothing is stored at OpenAI
 * (`store: false`).
 */
import type {
  FunctionTool,
  ResponseCreateParamsStreaming,
  ResponseInputItem,
} from 'openai/resources/responses/responses'
import type { Message, ModelRequest } from '../../src/model.js'
import { isStrictCompatible, toSchemaName } from './strict-schema.js'

function toInputItems(message: Message): ResponseInputItem[] {
  switch (message.role) {
    case 'system':
    case 'user':
      return [{ type: 'message', role: message.role, content: message.content }]
    case 'assistant': {
      const items: ResponseInputItem[] = []
      if (message.content !== '') items.push({ type: 'message', role: 'assistant', content: message.content })
      for (const call of message.toolCalls ?? []) {
        items.push({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments })
      }
      return items
    }
    case 'tool':
      return [{ type: 'function_call_output', call_id: message.toolCallId, output: message.content }]
  }
}

/** The streaming Responses API body for `request`, with `extraBody` merged over it. */
export function toResponsesRequest(
  request: ModelRequest,
  extraBody: Readonly<Record<string, unknown>>,
): ResponseCreateParamsStreaming {
  const body: Record<string, unknown> = {
    model: request.model,
    input: request.messages.flatMap(toInputItems),
    store: false,
  }
  if (request.tools.length > 0) {
    body.tools = request.tools.map(
      (tool): FunctionTool => ({
        type: 'function',
        name: tool.name,
        description: tool.description,
        parameters: tool.parameters,
        // The Responses API is strict unless told otherwise, so say it either way.
        strict: isStrictCompatible(tool.parameters),
      }),
    )
  }
  if (request.responseFormat !== undefined) {
    body.text = {
      format: {
        type: 'json_schema',
        name: toSchemaName(request.responseFormat.name),
        schema: request.responseFormat.schema,
        strict: isStrictCompatible(request.responseFormat.schema),
      },
    }
  }
  return { ...body, ...extraBody, stream: true } as unknown as ResponseCreateParamsStreaming
}
