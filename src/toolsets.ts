/**
 * Toolsets: tools whose list can change while the runtime runs (an MCP
 * server's), registered with the runtime by name and referenced by agents
 * (`toolsets: ['fs']`), so an agent version stays immutable while a server's
 * list changes. A run executes with its agent's own tools plus the toolsets'
 * current ones, resolved at each stretch of the loop (and at recovery, so an
 * approved call after a restart finds its tool).
 */
import type { Agent } from './agents.js'
import { fixedRequestBytes } from './context-window.js'
import { ValidationError } from './errors.js'
import type { Logger } from './logger.js'
import { toToolSpec, type Tool } from './tools.js'

/** A set of tools whose list may change; `hearth-runtime/mcp`'s `mcpTools()` makes one. */
export interface Toolset {
  /** The tools now. The same array while the list is unchanged (it is cached by identity). */
  tools(): readonly Tool[]
  /** Resolves once the first list is known: `Runtime.open` awaits it before recovering runs. @default already */
  readonly ready?: Promise<void>
  /** Releases connections and processes: `runtime.close()` calls it. @default nothing */
  close?(): Promise<void>
}

/** An agent's use of a toolset: its name, and which of its tools (by name) to take. */
export interface ToolsetReference {
  name: string
  /** Only these tools. @default all */
  allow?: readonly string[]
  /** Not these tools. @default none */
  deny?: readonly string[]
}

/** Validates an agent's `toolsets`. */
export function checkToolsetReferences(value: unknown, where: string): readonly ToolsetReference[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new ValidationError(`Expected \`${where}\` to be an array of toolset names or { name, allow?, deny? }`)
  return value.map((entry: unknown, index) => {
    const reference = typeof entry === 'string' ? { name: entry } : (entry as ToolsetReference)
    if (typeof reference !== 'object' || reference === null || typeof reference.name !== 'string' || reference.name === '') {
      throw new ValidationError(`Expected \`${where}[${index}]\` to be a toolset name or { name, allow?, deny? }`)
    }
    for (const list of ['allow', 'deny'] as const) {
      const names = reference[list]
      if (names !== undefined && (!Array.isArray(names) || !names.every((name) => typeof name === 'string'))) {
        throw new ValidationError(`Expected \`${where}[${index}].${list}\` to be an array of tool names`)
      }
    }
    return Object.freeze({ ...reference })
  })
}

/** The runtime's toolsets by name, and the agents they extend. */
export class Toolsets {
  readonly #sets: ReadonlyMap<string, Toolset>
  readonly #logger: Logger
  /** The agent each extended agent was made from. */
  readonly #bases = new WeakMap<Agent, Agent>()
  readonly #extended = new WeakMap<Agent, { lists: readonly (readonly Tool[])[]; agent: Agent }>()
  readonly #warned = new Set<string>()

  constructor(sets: Record<string, Toolset> | undefined, logger: Logger) {
    if (sets !== undefined && (typeof sets !== 'object' || sets === null)) throw new TypeError('Expected `toolsets` to be an object of toolsets by name')
    for (const [name, set] of Object.entries(sets ?? {})) {
      if (typeof set?.tools !== 'function') throw new TypeError(`Expected \`toolsets.${name}\` to be a toolset (an object with tools())`)
    }
    this.#sets = new Map(Object.entries(sets ?? {}))
    this.#logger = logger
  }

  /** Checks that the toolsets `agent` names are registered (`validation.invalid` otherwise). */
  check(agent: Agent): void {
    for (const reference of agent.toolsets) {
      if (!this.#sets.has(reference.name)) throw new ValidationError(`Agent ${agent.id} names toolset \`${reference.name}\`, which is not in the runtime's \`toolsets\``)
    }
  }

  /** Resolves once every toolset knows its first list. */
  async ready(): Promise<void> {
    await Promise.all([...this.#sets.values()].map((set) => set.ready))
  }

  /** Closes every toolset; a failure is logged, not thrown. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#sets.entries()].map(([name, set]) => set.close?.().catch((error: unknown) => this.#logger.error(`hearth: could not close toolset ${name}`, error))),
    )
  }

  /**
   * `agent` with its toolsets' current tools added to its own (an agent's
   * own tool wins a name it shares with a toolset's). The same object while
   * no list changed, so a stretch that resolves it again allocates nothing.
   */
  extend(agent: Agent): Agent {
    const base = this.#bases.get(agent) ?? agent
    if (base.toolsets.length === 0) return base
    const lists = base.toolsets.map((reference) => (this.#sets.get(reference.name) as Toolset).tools())
    const known = this.#extended.get(base)
    if (known !== undefined && known.lists.every((list, index) => list === lists[index])) return known.agent
    const tools = new Map(base.tools)
    base.toolsets.forEach((reference, index) => {
      for (const tool of lists[index] as readonly Tool[]) {
        if (reference.allow !== undefined && !reference.allow.includes(tool.name)) continue
        if (reference.deny?.includes(tool.name) === true) continue
        if (tools.has(tool.name)) {
          this.#warnOnce(`${base.id} ${tool.name}`, `hearth: agent ${base.id} has two tools named ${tool.name}; toolset ${reference.name}'s is left out`)
          continue
        }
        tools.set(tool.name, tool)
      }
    })
    const toolSpecs = [...tools.values()].map(toToolSpec)
    const extended: Agent = Object.freeze({ ...base, tools, toolSpecs, fixedRequestBytes: fixedRequestBytes(toolSpecs, base.responseFormat) })
    this.#bases.set(extended, base)
    this.#extended.set(base, { lists, agent: extended })
    return extended
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    this.#logger.warn(message)
  }
}
