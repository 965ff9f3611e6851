/**
 * An MCP tool as a hearth tool: its JSON Schema as the input (validated in
 * process where zod can express it, else sent as is and left to the server),
 * its annotations as confirmation and idempotence, and its result as the
 * output the model sees: `structuredContent` when the server sent it, else
 * its text (other content as JSON), an `isError` result as a failed call.
 */
import { McpError } from '../../src/errors.js'
import type { JsonSchema } from '../../src/model.js'
import { jsonSchema, tool, type Tool, type ToolSchema } from '../../src/tools.js'

/** What hearth reads of an MCP tool (`tools/list`). */
export interface McpToolInfo {
  name: string
  description?: string
  inputSchema: JsonSchema
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; title?: string }
}

/** Per tool settings over what the server's annotations say. */
export interface McpToolOverride {
  /** Ask for confirmation before running. @default unless the tool says `readOnlyHint: true` or `destructiveHint: false` */
  needsConfirmation?: boolean
  /** Safe to run again after a crash. @default the tool's `idempotentHint` */
  idempotent?: boolean
  /** Milliseconds a call may take (`0`: for ever). @default 300000 */
  timeoutMs?: number
}

/** What a call's result looks like (`tools/call`). */
export interface McpCallResult {
  content?: { type: string; text?: string; [key: string]: unknown }[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

/** Calls a tool on its server; rejects with an McpError when the server cannot. */
export type McpCall = (name: string, args: unknown, signal: AbortSignal, timeoutMs: number) => Promise<McpCallResult>

/** The text a model sees of a result. */
export function resultOutput(result: McpCallResult): unknown {
  if (result.structuredContent !== undefined && result.structuredContent !== null) return result.structuredContent
  const parts = (result.content ?? []).map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : JSON.stringify(part)))
  return parts.join('\n')
}

/** The input schema, sent as the server gave it: validated in process where zod can express it, else left to the server. */
function inputOf(schema: JsonSchema): ToolSchema {
  return jsonSchema({ ...schema, type: 'object' }, { loose: true })
}

/** `info` of a server as a hearth tool named `name`. */
export function toHearthTool(name: string, info: McpToolInfo, call: McpCall, override: McpToolOverride = {}): Tool {
  const hints = info.annotations ?? {}
  // Unannotated tools count as destructive, as the MCP specification says.
  const safe = hints.readOnlyHint === true || hints.destructiveHint === false
  const timeoutMs = override.timeoutMs ?? 300_000
  return tool({
    name,
    description: info.description ?? hints.title ?? '',
    input: inputOf(info.inputSchema ?? { type: 'object' }),
    needsConfirmation: override.needsConfirmation ?? !safe,
    idempotent: override.idempotent ?? hints.idempotentHint === true,
    timeoutMs,
    execute: async (args, context) => {
      const result = await call(info.name, args, context.signal, timeoutMs)
      if (typeof result !== 'object' || result === null) throw new McpError('mcp.protocol', `The server answered ${info.name} with something that is not a tool result`)
      const output = resultOutput(result)
      if (result.isError === true) throw new Error(typeof output === 'string' ? output : JSON.stringify(output))
      return output
    },
  })
}
