/**
 * An agent's `memory` option: how its runs keep what they learn about their
 * user. Both modes put the user's memories into the instructions of each of
 * that user's runs. `auto` adds an extraction call alongside each run (see
 * `memory-extraction.ts`); `agentic` gives the model the
 * `update_user_memory` tool instead, to add, change and delete memories
 * itself (never to clear them all).
 */
import { z } from 'zod'
import type { Agent } from './agents.js'
import { NotFoundError, StateError, ToolError, ValidationError } from './errors.js'
import { keepsMemories } from './memory-api.js'
import type { Route } from './routes.js'
import type { Store } from './store.js'
import { tool, type Tool } from './tools.js'
import { maxMemoryChars } from './user-memories.js'

/** The `memory` option of an agent, in full. */
export interface AgentMemoryOptions {
  /**
   * `auto`: an extraction call reads each run's input alongside the run and
   * writes what it learns (`memory.update_*` events). `agentic`: the model
   * gets the `update_user_memory` tool and writes memories itself.
   */
  mode: 'auto' | 'agentic'
  /** The route of the extraction call (`auto`). @default the run's route */
  route?: string
  /** Milliseconds the extraction may take; past it, `memory.update_failed` with `memory.timeout`. @default 30000 */
  timeoutMs?: number
  /** The most memories a run's instructions carry, newest first. @default 20 */
  maxMemories?: number
  /** The most characters of memory text a run's instructions carry. @default 4000 */
  maxChars?: number
}

/** An agent's memory settings, checked, with their defaults. */
export interface ResolvedMemory {
  mode: 'auto' | 'agentic'
  route: string | undefined
  timeoutMs: number
  maxMemories: number
  maxChars: number
}

/** The name of the agentic mode's tool. */
export const memoryToolName = 'update_user_memory'

function positive(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max) throw new ValidationError(`Expected \`${name}\` to be an integer from 1 to ${max}, got \`${String(value)}\``)
  return value as number
}

/** Checks an agent's `memory` option; undefined when it has none. */
export function resolveMemory(option: unknown, agentKey: string): ResolvedMemory | undefined {
  if (option === undefined) return undefined
  const options = typeof option === 'string' ? { mode: option } : option
  if (typeof options !== 'object' || options === null) throw new ValidationError(`Expected \`memory\` of agent \`${agentKey}\` to be 'auto', 'agentic' or { mode, ... }`)
  const { mode, route, timeoutMs, maxMemories, maxChars } = options as AgentMemoryOptions
  if (mode !== 'auto' && mode !== 'agentic') throw new ValidationError(`Expected the memory mode of agent \`${agentKey}\` to be 'auto' or 'agentic', got \`${String(mode)}\``)
  if (route !== undefined && (typeof route !== 'string' || route === '')) throw new ValidationError(`Expected \`memory.route\` of agent \`${agentKey}\` to be a non-empty string`)
  return {
    mode,
    route,
    timeoutMs: positive(timeoutMs, 'memory.timeoutMs', 30_000, 3_600_000),
    maxMemories: positive(maxMemories, 'memory.maxMemories', 20, 1000),
    maxChars: positive(maxChars, 'memory.maxChars', 4000, 1_000_000),
  }
}

/** Checks that a runtime can keep an agent's memories: its store keeps them, and the extraction's route is defined. */
export function checkAgentMemory(agent: Agent, store: Store, routes: Record<string, Route>): void {
  const memory = agent.memory
  if (memory === undefined) return
  if (!keepsMemories(store)) throw new StateError(`Agent ${agent.id} has \`memory\`, but the store keeps no user memories`)
  if (memory.route !== undefined && !Object.hasOwn(routes, memory.route)) {
    throw new NotFoundError('not_found.model_route', `The memory route \`${memory.route}\` of agent ${agent.id} is not defined`)
  }
}

const memoryToolInput = z.object({
  action: z.enum(['add', 'update', 'delete']).describe('add a new memory, update one (by memory_id), or delete one (by memory_id)'),
  memory_id: z.string().optional().describe('the memory to update or delete'),
  memory: z.string().max(maxMemoryChars).optional().describe('the fact, in one short sentence (add, update)'),
  topics: z.array(z.string()).max(20).optional().describe('a few one-word topics (add, update)'),
})

/** The `update_user_memory` tool of an agentic-memory agent: it writes the memories of the run's user (`ctx.memories`). */
export function memoryTool(agentKey: string): Tool {
  return tool({
    name: memoryToolName,
    description:
      'Remember, correct or forget a fact about the user for later conversations. Add a short fact the user told you about themselves; update or delete one of the memories listed in your instructions by its id.',
    input: memoryToolInput,
    async execute(args, ctx) {
      const memories = ctx.memories
      if (memories === undefined) throw new ToolError('tool.failed', 'This run has no user: memories are kept per user')
      if (args.action === 'add') {
        if (args.memory === undefined) throw new ToolError('tool.invalid_arguments', 'Adding a memory needs `memory`')
        const created = await memories.create({ memory: args.memory, topics: args.topics ?? [], agentKey })
        return { action: 'add', memory_id: created.id }
      }
      if (args.memory_id === undefined) throw new ToolError('tool.invalid_arguments', `To ${args.action} a memory, give its \`memory_id\``)
      if (args.action === 'delete') {
        const deleted = await memories.delete([args.memory_id])
        if (deleted === 0) throw new ToolError('tool.failed', `The user has no memory ${args.memory_id}`)
        return { action: 'delete', memory_id: args.memory_id }
      }
      const change = { ...(args.memory === undefined ? {} : { memory: args.memory }), ...(args.topics === undefined ? {} : { topics: args.topics }) }
      const updated = await memories.update(args.memory_id, change)
      return { action: 'update', memory_id: updated.id }
    },
  })
}
