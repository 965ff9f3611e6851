/**
 * The options and argument types of the Runtime's methods.
 */
import type { Telemetry } from './telemetry.js'
import { defaultMaxHandoffs } from './handoffs.js'
import type { Toolset } from './toolsets.js'
import type { AgentDefinition, AgentReference } from './agents.js'
import { ValidationError } from './errors.js'
import type { Logger } from './logger.js'
import type { ModelProvider } from './model.js'
import type { Route } from './routes.js'
import { checkLimits } from './limits.js'
import type { Caller, RunLimits, RunStatus, Store } from './store.js'
import { checkObject, checkWellFormed, optionalCaller, optionalChoice, optionalReference, optionalString, utf8Length } from './validate.js'

/** Options of {@link Runtime.open}. */
export interface RuntimeOptions {
  /** Where sessions, runs and events are kept. @default memoryStore() */
  store?: Store
  /**
   * The one model of a runtime that needs no more: this provider becomes
   * provider and route `default`, with the model the provider names
   * (`openaiProvider({ model: 'gpt-5-mini' })`). Giving `routes.default` too
   * is a TypeError. @default none: use `providers` and `routes`
   */
  model?: ModelProvider
  /** Model providers by name, referred to by routes. @default {} */
  providers?: Record<string, ModelProvider>
  /** Named provider + model pairs; a run uses its `routeId`, else its agent's route, else `default`. @default {} */
  routes?: Record<string, Route>
  /**
   * Agents defined at open. More can be added with `defineAgent`. With none,
   * the runtime defines `assistant@1`: no instructions, no tools, the default route.
   * @default [assistant@1]
   */
  agents?: readonly AgentDefinition[]
  /** Workflows made with `workflow()`, defined like agents (a run names one by `personaId`). @default [] */
  workflows?: readonly AgentDefinition[]
  /**
   * Toolsets by name (an MCP server's tools: `hearth-runtime/mcp`), which
   * agents reference in `toolsets`. `open` waits for their first lists
   * before recovering runs; `close` closes them.
   * @default {}
   */
  toolsets?: Record<string, Toolset>
  /** The agent of a run whose session and request name none. @default the first agent defined */
  defaultAgent?: string
  /** Runs executing at once. @default 16 */
  concurrency?: number
  /** Tool calls of one model turn executed at once. @default 8 */
  toolConcurrency?: number
  /**
   * How deep child runs (`agentTool`) may nest: a top-level run is depth 0,
   * its children 1. A call that would start a child deeper gets an error
   * result with `run.depth_exceeded`. @default 4
   */
  maxDepth?: number
  /** How many times one run may be handed over to another agent (`handoffs`); a handoff past it gets an error result. @default 5 */
  maxHandoffs?: number
  /** `creditsUsed = round(totalCostUsd * creditsPerUsd)`. @default 1000 */
  creditsPerUsd?: number
  /** What happens to runs found running in the store at open: continue them, or fail them with `run.interrupted`. @default 'resume' */
  recovery?: 'resume' | 'fail'
  /** Largest run input in UTF-8 bytes. @default 1048576 */
  maxInputBytes?: number
  /**
   * Execute runs (true), or only read and watch them (false: an observer that
   * never executes or recovers a run; its `createRun` leaves the run queued
   * for an executing runtime on the same store). @default true
   */
  execute?: boolean
  /** An owner whose heartbeat is older than this (ms) is dead and its runs are recovered; beats come every third of it. @default 10000 */
  leaseMs?: number
  /**
   * How long (ms) `cancelRun` and `submitInput` wait for another runtime that
   * executes the run to apply them, before they fail with `control.timeout`
   * (the request is withdrawn unless its owner accepted it already).
   * @default 10000
   */
  controlTimeoutMs?: number
  /**
   * Traces of runs: every batch of events this runtime commits is handed to
   * it, with its run (`otelTelemetry()` from `hearth-runtime/otel` makes
   * OpenTelemetry spans). @default none: nothing is traced, at no cost
   */
  telemetry?: Telemetry
  /** Where the runtime writes what it cannot throw to a caller (a run stopped on a bug, a heartbeat failed). @default consoleLogger */
  logger?: Logger
}

/**
 * Options of {@link Runtime.createRun}. Without a session id, the run's new
 * session takes `personaId`, `orgId` and `createdBy`. `Output` is the type of
 * the run's `output`, known when `personaId` is an agent's definition.
 */
export interface CreateRunOptions<Output = unknown> {
  /**
   * The user's message. Without it, the run answers the session's unanswered
   * thread messages (`addMessage`), taken when it starts; a session with none
   * refuses it (`state.invalid`). @default the session's unanswered messages
   */
  input?: string
  /**
   * `key` or `key@version`, or the agent's definition (or the Agent
   * `defineAgent` returned), which types the run's `output`; `''` and null
   * mean the default. @default the session's agent, else the runtime's default agent
   */
  personaId?: string | AgentReference<Output> | null
  /** `''` and null mean the default. @default the agent's route, else 'default' */
  routeId?: string | null
  /** What to do when the session already has an active run. @default 'enqueue' */
  multitask?: 'reject' | 'enqueue' | 'interrupt'
  createdBy?: Caller
  /** Scope: the run's session must belong to this org. */
  orgId?: string
  /** The run's trace id (32 lowercase hex characters, W3C style), e.g. the caller's own. @default a new one */
  traceId?: string
  /** Bounds on this run, each over its agent's. @default the agent's `limits` */
  limits?: RunLimits
}

/** Options of {@link Runtime.listRuns}. */
export interface ListRunsOptions {
  orgId?: string
  sessionId?: string
  /** Only the children of this run (the runs it started: agents called as tools, team members). */
  parentRunId?: string
  status?: RunStatus | readonly RunStatus[]
  /** 1 to 100. @default 20 */
  limit?: number
  /** The id of the previous page's last run. */
  before?: string
  /** 'desc': newest first; 'asc': oldest first (`before` then means "after"). @default 'desc' */
  order?: 'asc' | 'desc'
}

/** An answer to a waiting run. */
export interface InputOptions {
  /** The answer (at most 32,768 bytes of UTF-8). Without `approved`, `approve` or `yes` approves. @default '' */
  content?: string
  approved?: boolean
  /** The request answered. @default the oldest open one */
  toolCallId?: string
  orgId?: string
}

/** Max bytes of `submitInput` content. */
export const maxInputContentBytes = 32_768

/** The options of `submitInput`, checked. */
export function parseInputOptions(input: unknown): { content: string; approved: boolean | undefined; toolCallId: string | undefined; orgId: string | undefined } {
  const body = checkObject(input, 'input')
  const content = optionalString(body.content, 'content') ?? ''
  if (body.approved !== undefined && typeof body.approved !== 'boolean') throw new ValidationError('Expected `approved` to be a boolean')
  const toolCallId = optionalString(body.toolCallId, 'toolCallId', { nonEmpty: true })
  if (utf8Length(content) > maxInputContentBytes) {
    throw new ValidationError(`\`content\` is larger than ${maxInputContentBytes} bytes`, { code: 'validation.too_large' })
  }
  checkWellFormed(content, 'content')
  return { content, approved: body.approved as boolean | undefined, toolCallId, orgId: optionalString(body.orgId, 'orgId') }
}

/** A positive integer option, or its default; a TypeError otherwise. */
export function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${String(value)}\``)
  }
  return value
}

/** The providers and routes of `Runtime.open`, with the `model` shorthand turned into provider and route `default`. */
export function providersAndRoutes(options: RuntimeOptions): { providers: Record<string, ModelProvider>; routes: Record<string, Route> } {
  const providers = { ...(options.providers ?? {}) }
  const routes = { ...(options.routes ?? {}) }
  const model = options.model
  if (model === undefined) return { providers, routes }
  if (typeof model !== 'object' || model === null || typeof model.stream !== 'function') {
    throw new TypeError('Expected `model` to be a ModelProvider (an object with a `stream` method), e.g. openaiProvider({ model: \'gpt-5-mini\' })')
  }
  if (Object.hasOwn(routes, 'default')) throw new TypeError('Give `model` or `routes.default`, not both')
  if (Object.hasOwn(providers, 'default') && providers.default !== model) {
    throw new TypeError('`model` becomes provider `default`, and `providers.default` is another provider')
  }
  if (typeof model.model !== 'string' || model.model === '') {
    throw new TypeError('The provider given as `model` names no model: give it one, e.g. openaiProvider({ model: \'gpt-5-mini\' })')
  }
  providers.default = model
  routes.default = { provider: 'default', model: model.model }
  return { providers, routes }
}

/** What {@link parseCreateRunOptions} gives: every option checked, defaults applied where they do not depend on the session. */
export interface ParsedCreateRunOptions {
  /** Undefined: the run answers its session's thread messages. */
  input: string | undefined
  personaId: string | AgentReference | undefined
  routeId: string | undefined
  multitask: 'reject' | 'enqueue' | 'interrupt'
  createdBy: Caller | null
  orgId: string | undefined
  traceId: string | undefined
  limits: RunLimits | undefined
}

/** `personaId`: a reference string (`''` and null: the default), or an agent object with its `key` and `version`. */
function optionalAgentReference(value: unknown): string | AgentReference | undefined {
  if (typeof value !== 'object' || value === null) return optionalReference(value, 'personaId')
  const { key, version } = value as Record<string, unknown>
  if (Array.isArray(value) || typeof key !== 'string' || typeof version !== 'number') {
    throw new ValidationError("Expected `personaId` to be `key`, `key@version`, an agent's definition (with its key and version), null or ''")
  }
  return value as AgentReference
}

/** Checks the options of `createRun` before anything is read or written. */
export function parseCreateRunOptions(options: unknown, maxInputBytes: number): ParsedCreateRunOptions {
  const body = checkObject(options, 'options')
  if (body.input !== undefined && typeof body.input !== 'string') throw new ValidationError('Expected `input` to be a string')
  const input = body.input
  if (input !== undefined && utf8Length(input) > maxInputBytes) {
    throw new ValidationError(`\`input\` is larger than ${maxInputBytes} bytes`, { code: 'validation.too_large' })
  }
  if (input !== undefined) checkWellFormed(input, 'input')
  const traceId = optionalString(body.traceId, 'traceId')
  if (traceId !== undefined && !/^[0-9a-f]{32}$/.test(traceId)) throw new ValidationError('Expected `traceId` to be 32 lowercase hex characters')
  return {
    input,
    personaId: optionalAgentReference(body.personaId),
    routeId: optionalReference(body.routeId, 'routeId'),
    multitask: optionalChoice(body.multitask, 'multitask', ['reject', 'enqueue', 'interrupt'] as const) ?? 'enqueue',
    createdBy: optionalCaller(body.createdBy, 'createdBy') ?? null,
    orgId: optionalString(body.orgId, 'orgId'),
    traceId,
    limits: checkLimits(body.limits, 'limits'),
  }
}

/** The runtime's settings from its options, each checked, defaults filled in. */
export interface RuntimeSettings {
  creditsPerUsd: number
  concurrency: number
  toolConcurrency: number
  maxInputBytes: number
  execute: boolean
  leaseMs: number
  controlTimeoutMs: number
  maxDepth: number
  maxHandoffs: number
}

/** Checks the runtime's numeric and flag options (a TypeError names a bad one) and fills in their defaults. */
export function runtimeSettings(options: RuntimeOptions): RuntimeSettings {
  const creditsPerUsd = options.creditsPerUsd ?? 1000
  if (typeof creditsPerUsd !== 'number' || !Number.isFinite(creditsPerUsd) || creditsPerUsd < 0) {
    throw new TypeError(`Expected \`creditsPerUsd\` to be a non-negative number, got \`${String(creditsPerUsd)}\``)
  }
  if (options.recovery !== undefined && options.recovery !== 'resume' && options.recovery !== 'fail') {
    throw new TypeError(`Expected \`recovery\` to be 'resume' or 'fail', got \`${String(options.recovery)}\``)
  }
  if (options.execute !== undefined && typeof options.execute !== 'boolean') {
    throw new TypeError(`Expected \`execute\` to be a boolean, got \`${String(options.execute)}\``)
  }
  return {
    creditsPerUsd,
    concurrency: positiveInteger(options.concurrency, 'concurrency', 16),
    toolConcurrency: positiveInteger(options.toolConcurrency, 'toolConcurrency', 8),
    maxInputBytes: positiveInteger(options.maxInputBytes, 'maxInputBytes', 1_048_576),
    execute: options.execute ?? true,
    leaseMs: positiveInteger(options.leaseMs, 'leaseMs', 10_000),
    controlTimeoutMs: positiveInteger(options.controlTimeoutMs, 'controlTimeoutMs', 10_000),
    maxDepth: positiveInteger(options.maxDepth, 'maxDepth', 4),
    // 0: no handoffs at all.
    maxHandoffs: options.maxHandoffs === 0 ? 0 : positiveInteger(options.maxHandoffs, 'maxHandoffs', defaultMaxHandoffs),
  }
}
