/**
 * tool(): a function the model may call, with a zod schema for its arguments.
 * The schema becomes JSON Schema for the model (zod 4's own conversion) and
 * validates what the model sends back.
 */
import { z } from 'zod'
import type { JsonObject } from './events.js'
import type { JsonSchema, ToolSpec } from './model.js'

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  /** Aborts when the run is cancelled or the runtime closes. */
  signal: AbortSignal
  runId: string
  sessionId: string
  toolCallId: string
  /** The session's state: a JSON object the tool may read and change in place. */
  state: JsonObject
}

/** The definition passed to {@link tool}. */
export interface ToolOptions<Schema extends z.ZodType> {
  /** The name the model calls it by: letters, digits, `_` and `-`, at most 64. */
  name: string
  /** What the tool does, for the model. @default '' */
  description?: string
  /** The zod schema of the arguments (an object schema). */
  input: Schema
  /** Runs the tool. Its return value (JSON-serialisable) is the result the model sees. */
  execute: (args: z.output<Schema>, context: ToolContext) => unknown
  /** Ask for confirmation before running: `true`, or a predicate on the arguments. @default false */
  needsConfirmation?: boolean | ((args: z.output<Schema>) => boolean)
  /** End the run after this tool ran; its output becomes the run's content. @default false */
  stopAfterCall?: boolean
  /** Safe to run again after a crash interrupted it (and, with `retries`, after a failure). @default false */
  idempotent?: boolean
  /**
   * Milliseconds a call may take: then its `signal` aborts and the model
   * gets an error result with `tool.timeout`. `0` waits for ever.
   * @default 300000 (5 minutes)
   */
  timeoutMs?: number
  /** For an `idempotent` tool: how often a call that threw or timed out is run again. @default 0 */
  retries?: number
}

/** How long a tool call may take when its tool sets no `timeoutMs`. */
export const defaultToolTimeoutMs = 300_000

/** A tool, ready to give to an agent. */
export interface Tool<Schema extends z.ZodType = z.ZodType> {
  readonly name: string
  readonly description: string
  readonly input: Schema
  readonly parameters: JsonSchema
  readonly execute: (args: z.output<Schema>, context: ToolContext) => unknown
  readonly needsConfirmation: boolean | ((args: z.output<Schema>) => boolean)
  readonly stopAfterCall: boolean
  readonly idempotent: boolean
  readonly timeoutMs: number
  readonly retries: number
}

const toolNamePattern = /^[A-Za-z0-9_-]{1,64}$/

/** Defines a tool. Throws a TypeError on a malformed definition. */
export function tool<Schema extends z.ZodType>(options: ToolOptions<Schema>): Tool<Schema> {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected tool options to be an object')
  if (typeof options.name !== 'string' || !toolNamePattern.test(options.name)) {
    throw new TypeError(`Expected \`name\` to match ${String(toolNamePattern)}, got \`${String(options.name)}\``)
  }
  if (options.description !== undefined && typeof options.description !== 'string') {
    throw new TypeError(`Expected \`description\` of tool \`${options.name}\` to be a string`)
  }
  if (!(options.input instanceof z.ZodType)) {
    throw new TypeError(`Expected \`input\` of tool \`${options.name}\` to be a zod schema`)
  }
  if (typeof options.execute !== 'function') {
    throw new TypeError(`Expected \`execute\` of tool \`${options.name}\` to be a function`)
  }
  const needsConfirmation = options.needsConfirmation ?? false
  if (typeof needsConfirmation !== 'boolean' && typeof needsConfirmation !== 'function') {
    throw new TypeError(`Expected \`needsConfirmation\` of tool \`${options.name}\` to be a boolean or a function`)
  }
  const count = (value: unknown, field: string, fallback: number): number => {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`Expected \`${field}\` of tool \`${options.name}\` to be an integer from 0, got \`${String(value)}\``)
    }
    return value
  }
  const timeoutMs = count(options.timeoutMs, 'timeoutMs', defaultToolTimeoutMs)
  const retries = count(options.retries, 'retries', 0)
  if (retries > 0 && options.idempotent !== true) {
    throw new TypeError(`Tool \`${options.name}\` sets \`retries\` but is not \`idempotent\`: only a call that is safe to run twice is run again`)
  }
  let parameters: JsonSchema
  try {
    parameters = toJsonSchema(options.input)
  } catch (error) {
    throw new TypeError(`The \`input\` schema of tool \`${options.name}\` cannot be converted to JSON Schema: ${String(error)}`)
  }
  return Object.freeze({
    name: options.name,
    description: options.description ?? '',
    input: options.input,
    parameters,
    execute: options.execute,
    needsConfirmation,
    stopAfterCall: options.stopAfterCall ?? false,
    idempotent: options.idempotent ?? false,
    timeoutMs,
    retries,
  })
}

/** The tool as the model sees it. */
export function toToolSpec(definition: Tool): ToolSpec {
  return { name: definition.name, description: definition.description, parameters: definition.parameters }
}

/** zod schema -> JSON Schema without the `$schema` key, as sent to models. */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  delete json.$schema
  return json
}
