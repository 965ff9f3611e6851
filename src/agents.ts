/**
 * Agents (personas): immutable `key@version` definitions, and the registry
 * that resolves `key` (the latest version) or `key@version`.
 */
import type { z } from 'zod'
import { NotFoundError, StateError, ValidationError } from './errors.js'
import type { JsonSchema, ToolSpec } from './model.js'
import { checkContext, fixedRequestBytes, type ContextOptions, type ResolvedContext } from './context-window.js'
import { checkLimits } from './limits.js'
import { checkToolsetReferences, type ToolsetReference } from './toolsets.js'
import type { RunLimits } from './store.js'
import { toJsonSchema, toToolSpec, type Tool } from './tools.js'
import { handoffTarget, handoffTool } from './handoffs.js'
import { agentToolTarget } from './agent-tools.js'
import type { TeamSpec } from './teams.js'
import type { WorkflowSpec } from './workflows.js'
import { memoryTool, memoryToolName, resolveMemory, type AgentMemoryOptions, type ResolvedMemory } from './agent-memory.js'

/**
 * An agent as the user defines it. `Schema` is the type of its
 * `outputSchema`, so a run started with the definition (or the Agent
 * `defineAgent` returns) as its `personaId` has `output` of that type.
 */
export interface AgentDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The agent's key: letters, digits, `_`, `-` and `.`. */
  key: string
  /** A positive integer; a `key@version` never changes once defined. */
  version: number
  /** The system prompt. @default '' */
  instructions?: string
  /** The tools the model may call. @default [] */
  tools?: readonly Tool[]
  /** The route used when the run names none. @default 'default' */
  route?: string
  /** Model turns before the run fails with `run.max_turns`. @default 10 */
  maxTurns?: number
  /**
   * When set, the final answer must be JSON of this schema (`run.output_invalid`
   * otherwise): the run's `content` is the JSON text, its `output` the validated value.
   * @default none: the answer is text
   */
  outputSchema?: Schema
  /** A display name (Agno's `agent_name`). @default key */
  name?: string
  /** How many of the session's latest completed runs a new run sees as history. @default 10 */
  historyRuns?: number
  /** Bounds on each run (a run's own `limits` override them field by field). @default none */
  limits?: RunLimits
  /** How requests are kept inside the model's context window (see {@link ContextOptions}). @default trim to the route's window, when it is known */
  context?: ContextOptions
  /**
   * Toolsets registered with the runtime (`Runtime.open({ toolsets })`) whose
   * current tools the agent's runs get besides its own: a name, or
   * `{ name, allow?, deny? }` to take only some of its tools.
   * @default []
   */
  toolsets?: readonly (string | ToolsetReference)[]
  /**
   * Agents (`key@version` or `key`) this one may hand the run over to: each
   * gives the model a `transfer_to_<key>` tool; the run then goes on as that
   * agent (see `agent.handoff`). Each must be defined when this one is used.
   * @default []
   */
  handoffs?: readonly string[]
  /**
   * What the agent's runs keep about their user (a session's `userId`) across
   * that user's sessions: `'auto'` (an extraction call alongside each run),
   * `'agentic'` (the model gets the `update_user_memory` tool), or the full
   * {@link AgentMemoryOptions}. Either way the user's memories go into the
   * instructions of each of their runs. Runs without a user skip memory.
   * @default none
   */
  memory?: 'auto' | 'agentic' | AgentMemoryOptions
  /** Set by `team()`: the definition is a team's. @default undefined (an agent) */
  team?: TeamSpec
  /** Set by `workflow()`: the definition is a workflow's. @default undefined (an agent) */
  workflow?: WorkflowSpec
}

/**
 * An agent named by its definition, or by the Agent `defineAgent` returned,
 * instead of `key@version`: a run of it has `output` typed by its `outputSchema`.
 */
export interface AgentReference<Output = unknown> {
  readonly key: string
  readonly version: number
  readonly outputSchema?: z.ZodType<Output> | undefined
}

/** An agent after validation, with what the loop needs precomputed. `Output` is the type of its `outputSchema`. */
export interface Agent<Output = unknown> {
  readonly key: string
  readonly version: number
  /** `key@version`. */
  readonly id: string
  readonly name: string
  readonly instructions: string
  readonly tools: ReadonlyMap<string, Tool>
  readonly toolSpecs: readonly ToolSpec[]
  readonly route: string | undefined
  readonly maxTurns: number
  readonly outputSchema: z.ZodType<Output> | undefined
  readonly responseFormat: { name: string; schema: JsonSchema } | undefined
  readonly historyRuns: number
  /** Bounds on each run of the agent, when it sets any. */
  readonly limits: RunLimits | undefined
  /** How requests are kept inside the model's window. */
  readonly context: ResolvedContext
  /** Estimated request bytes of the tools and answer schema, sent with every turn. */
  readonly fixedRequestBytes: number
  /** The toolsets whose tools the agent's runs get besides its own. */
  readonly toolsets: readonly ToolsetReference[]
  /** A canonical text of the definition, to detect a redefinition with other content. */
  readonly fingerprint: string
  /** What its runs keep about their user, when it keeps anything. */
  readonly memory: ResolvedMemory | undefined
  /** For a team (`team()`): its mode and members. */
  readonly team: TeamSpec | undefined
  /** For a workflow (`workflow()`): its function and input schema. */
  readonly workflow: WorkflowSpec | undefined
}

/** The agent a runtime defines when it is given none: no instructions, no tools, the default route. */
export const builtInAgent: AgentDefinition = Object.freeze({ key: 'assistant', version: 1 })

const keyPattern = /^[A-Za-z0-9_.-]{1,128}$/

function compile(definition: AgentDefinition): Agent {
  if (typeof definition !== 'object' || definition === null) throw new ValidationError('Expected an agent definition object')
  const { key, version } = definition
  if (typeof key !== 'string' || !keyPattern.test(key)) {
    throw new ValidationError(`Expected agent \`key\` to match ${String(keyPattern)}, got \`${String(key)}\``)
  }
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError(`Expected \`version\` of agent \`${key}\` to be a positive integer, got \`${String(version)}\``)
  }
  const maxTurns = definition.maxTurns ?? 10
  if (!Number.isSafeInteger(maxTurns) || maxTurns < 1) {
    throw new ValidationError(`Expected \`maxTurns\` of agent \`${key}\` to be a positive integer, got \`${String(maxTurns)}\``)
  }
  const historyRuns = definition.historyRuns ?? 10
  if (!Number.isSafeInteger(historyRuns) || historyRuns < 0) {
    throw new ValidationError(`Expected \`historyRuns\` of agent \`${key}\` to be a non-negative integer, got \`${String(historyRuns)}\``)
  }
  if (definition.instructions !== undefined && typeof definition.instructions !== 'string') {
    throw new ValidationError(`Expected \`instructions\` of agent \`${key}\` to be a string`)
  }
  if (definition.route !== undefined && (typeof definition.route !== 'string' || definition.route === '')) {
    throw new ValidationError(`Expected \`route\` of agent \`${key}\` to be a non-empty string`)
  }
  const tools = new Map<string, Tool>()
  for (const entry of definition.tools ?? []) {
    if (typeof entry !== 'object' || entry === null || typeof entry.execute !== 'function') {
      throw new ValidationError(`Expected the tools of agent \`${key}\` to be made with tool()`)
    }
    if (tools.has(entry.name)) throw new ValidationError(`Agent \`${key}\` has two tools named \`${entry.name}\``)
    tools.set(entry.name, entry)
  }
  if (definition.handoffs !== undefined && !Array.isArray(definition.handoffs)) throw new ValidationError(`Expected \`handoffs\` of agent \`${key}\` to be an array of agent references`)
  for (const reference of definition.handoffs ?? []) {
    const made = handoffTool(reference, key)
    if (tools.has(made.name)) throw new ValidationError(`Agent \`${key}\` has two tools named \`${made.name}\``)
    tools.set(made.name, made)
  }
  const memory = resolveMemory(definition.memory, key)
  if (memory !== undefined && definition.workflow !== undefined) throw new ValidationError(`Workflow \`${key}\` cannot have \`memory\`: its agents' runs can`)
  if (memory?.mode === 'agentic') {
    if (tools.has(memoryToolName)) throw new ValidationError(`Agent \`${key}\` has two tools named \`${memoryToolName}\``)
    tools.set(memoryToolName, memoryTool(key))
  }
  const limits = checkLimits(definition.limits, `limits of agent ${key}`)
  const context = checkContext(definition.context, `context of agent ${key}`)
  const toolsets = checkToolsetReferences(definition.toolsets, `toolsets of agent ${key}`)
  const toolSpecs = [...tools.values()].map(toToolSpec)
  const responseFormat = definition.outputSchema === undefined ? undefined : { name: 'output', schema: toJsonSchema(definition.outputSchema) }
  const instructions = definition.instructions ?? ''
  // The agents its agent tools and handoffs name, which their specs do not show.
  const targets = [...tools.values()].map((entry) => agentToolTarget(entry) ?? handoffTarget(entry) ?? null)
  const fingerprint = JSON.stringify([instructions, toolSpecs, definition.route ?? null, maxTurns, responseFormat ?? null, definition.name ?? null, historyRuns, limits ?? null, context, toolsets, targets, definition.team ?? null, definition.workflow === undefined ? null : 'workflow', memory ?? null])
  return {
    key,
    version,
    id: `${key}@${version}`,
    name: definition.name ?? key,
    instructions,
    tools,
    toolSpecs,
    route: definition.route,
    maxTurns,
    outputSchema: definition.outputSchema,
    responseFormat,
    historyRuns,
    limits,
    context,
    fixedRequestBytes: fixedRequestBytes(toolSpecs, responseFormat),
    toolsets,
    fingerprint,
    memory,
    team: definition.team,
    workflow: definition.workflow,
  }
}

/** Holds every defined agent version. */
export class AgentRegistry {
  readonly #versions = new Map<string, Map<number, Agent>>()
  /** The agent each definition object given so far stands for, so naming a run's agent by it compiles it once. */
  readonly #byDefinition = new WeakMap<object, Agent>()

  /** Defines `key@version`. Defining it again with other content fails with `state.invalid`. */
  define(definition: AgentDefinition): Agent {
    const agent = compile(definition)
    let versions = this.#versions.get(agent.key)
    const existing = versions?.get(agent.version)
    if (existing !== undefined) {
      if (existing.fingerprint !== agent.fingerprint) {
        throw new StateError(`Agent ${agent.id} is already defined with other content; define a new version instead`)
      }
      this.#byDefinition.set(definition, existing)
      return existing
    }
    if (versions === undefined) {
      versions = new Map()
      this.#versions.set(agent.key, versions)
    }
    versions.set(agent.version, agent)
    this.#byDefinition.set(definition, agent)
    return agent
  }

  /**
   * Resolves a reference string, or an agent named by its definition or
   * Agent: its `key@version` must be defined (`not_found.agent`), with the
   * same content (`state.invalid` otherwise).
   */
  resolveReference(reference: string | AgentReference): Agent {
    if (typeof reference === 'string') return this.resolve(reference)
    const agent = this.resolve(`${reference.key}@${reference.version}`)
    if (reference === agent || this.#byDefinition.get(reference) === agent) return agent
    if (compile(reference as AgentDefinition).fingerprint !== agent.fingerprint) {
      throw new StateError(`Agent ${agent.id} is defined with other content than the definition given`)
    }
    this.#byDefinition.set(reference, agent)
    return agent
  }

  /** Resolves `key` (latest version) or `key@version`; `not_found.agent` otherwise. */
  resolve(reference: string): Agent {
    if (typeof reference !== 'string' || reference === '') throw new ValidationError('Expected an agent reference `key` or `key@version`')
    const at = reference.lastIndexOf('@')
    const key = at === -1 ? reference : reference.slice(0, at)
    const versions = this.#versions.get(key)
    if (versions !== undefined) {
      if (at === -1) {
        let latest: Agent | undefined
        for (const agent of versions.values()) if (latest === undefined || agent.version > latest.version) latest = agent
        if (latest !== undefined) return latest
      } else {
        const version = Number(reference.slice(at + 1))
        const agent = Number.isSafeInteger(version) ? versions.get(version) : undefined
        if (agent !== undefined) return agent
      }
    }
    throw new NotFoundError('not_found.agent', `Agent ${reference} is not defined`)
  }

  /** The key of the first agent defined, if any. */
  firstKey(): string | undefined {
    return this.#versions.keys().next().value
  }

  /** Every defined version. */
  list(): Agent[] {
    return [...this.#versions.values()].flatMap((versions) => [...versions.values()])
  }
}
