/**
 * tool(): a function the model may call, with a schema for its arguments: a
 * zod 4 object schema (`zod` or `zod/mini`), or raw JSON Schema through
 * {@link jsonSchema}. The schema becomes JSON Schema for the model (zod 4's
 * own conversion, or the JSON Schema as given) and validates what the model
 * sends back.
 */
import { z } from 'zod'
import type { UserMemories } from './memory-api.js'
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
  /** The run's user: its session's `userId` (null when it has none). @default null */
  readonly userId?: string | null
  /** The memories of the run's user; undefined when the run has no user or the store keeps no memories. */
  readonly memories?: UserMemories | undefined
}

/** A tool's argument schema: any zod 4 schema (`zod` or `zod/mini`), or one {@link jsonSchema} made. */
export type ToolSchema = z.core.$ZodType

/** The definition passed to {@link tool}. */
export interface ToolOptions<Schema extends ToolSchema> {
  /** The name the model calls it by: letters, digits, `_` and `-`, at most 64. */
  name: string
  /** What the tool does, for the model. @default '' */
  description?: string
  /** The schema of the arguments: a zod 4 object schema (`zod` or `zod/mini`), or `jsonSchema({ type: 'object', ... })`. */
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
export interface Tool<Schema extends ToolSchema = ToolSchema> {
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
export function tool<Schema extends ToolSchema>(options: ToolOptions<Schema>): Tool<Schema> {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected tool options to be an object')
  if (typeof options.name !== 'string' || !toolNamePattern.test(options.name)) {
    throw new TypeError(`Expected \`name\` to match ${String(toolNamePattern)}, got \`${String(options.name)}\``)
  }
  if (options.description !== undefined && typeof options.description !== 'string') {
    throw new TypeError(`Expected \`description\` of tool \`${options.name}\` to be a string`)
  }
  checkSchema(options.input, options.name)
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
    parameters = rawSchemas.get(options.input) ?? toJsonSchema(options.input)
  } catch (error) {
    throw new TypeError(`The \`input\` schema of tool \`${options.name}\` cannot be converted to JSON Schema: ${String(error)}`)
  }
  if (parameters.type !== 'object') {
    throw new TypeError(`Expected \`input\` of tool \`${options.name}\` to be an object schema (the model sends named arguments), got a schema of type \`${String(parameters.type ?? 'any')}\``)
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

/** Says what is wrong with a tool's `input` that is not a zod 4 schema: a zod 3 one gets its own message. */
function checkSchema(input: unknown, name: string): void {
  if (input instanceof z.core.$ZodType) return
  const value = input as { _def?: unknown; _zod?: unknown } | null
  if (typeof value === 'object' && value !== null && value._def !== undefined && value._zod === undefined) {
    throw new TypeError(
      `Expected \`input\` of tool \`${name}\` to be a zod 4 schema, got a zod 3 schema: hearth needs zod 4 (\`npm install zod@4\`, or import from 'zod/v4' with zod 3.25), or pass JSON Schema with jsonSchema()`,
    )
  }
  throw new TypeError(`Expected \`input\` of tool \`${name}\` to be a zod 4 schema or jsonSchema({ type: 'object', ... }), got \`${String(input)}\``)
}

/** The JSON Schema each {@link jsonSchema} schema was made from, sent to models as given. */
const rawSchemas = new WeakMap<object, JsonSchema>()

/**
 * A tool `input` from raw JSON Schema (an object schema): the model is sent
 * it as given (without `$schema`), and the arguments are validated by the
 * zod schema `z.fromJSONSchema` makes of it. Throws a TypeError for a schema
 * zod cannot express (`if`/`then`/`else`, `not`, `dependentSchemas`,
 * `dependentRequired`, `unevaluatedProperties`, a `$ref` outside the
 * document) or one that is not of type `object`, unless `options.loose`:
 * then such a schema is still sent as given, and the arguments are only
 * checked to be an object (for a schema whose owner validates, such as an
 * MCP server). `Args` types the arguments `execute` receives.
 * @default Args Record<string, unknown>
 */
export function jsonSchema<Args = Record<string, unknown>>(schema: JsonSchema, options: { loose?: boolean } = {}): z.ZodType<Args> {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new TypeError('Expected jsonSchema() to be given a JSON Schema object')
  if (schema.type !== 'object') throw new TypeError(`Expected a JSON Schema of type \`object\` (the model sends named arguments), got type \`${String(schema.type ?? 'any')}\``)
  let made: z.ZodType
  try {
    made = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]) as z.ZodType
  } catch (error) {
    if (options.loose !== true) throw new TypeError(`This JSON Schema cannot be used as a tool's input: ${error instanceof Error ? error.message : String(error)}`)
    made = z.looseObject({})
  }
  const { $schema: _dropped, ...sent } = schema
  rawSchemas.set(made, sent)
  return made as z.ZodType<Args>
}

/** zod schema -> JSON Schema without the `$schema` key, as sent to models. */
export function toJsonSchema(schema: ToolSchema): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  delete json.$schema
  return json
}
