/**
 * agentTool(): another agent as a tool. The model calls it by the agent's
 * key with `{ input }`; the runtime starts a child run of that agent in the
 * same session (see child-runs.ts), and the call's result is the child's
 * answer. It is never executed as a function.
 */
import { z } from 'zod'
import { ValidationError } from './errors.js'
import { tool, type Tool } from './tools.js'

/** What a child run is sent of its parent's conversation besides its input. */
export type AgentToolContext = 'isolated' | { recentTurns: number }

/** The agent an agent tool starts, with how. */
export interface AgentToolTarget {
  /** The agent: `key@version`, or `key` for its latest version when the call is made. */
  reference: string
  context: AgentToolContext
}

/** Options of {@link agentTool}. */
export interface AgentToolOptions {
  /**
   * What the child is sent of the parent's conversation: `'isolated'` only
   * the call's `input`; `{ recentTurns: n }` also the text of the parent's
   * last `n` user and assistant messages, as a transcript before the input.
   * @default 'isolated'
   */
  context?: AgentToolContext
  /** What the tool does, for the model. @default `Hands a task to the <key> agent and returns its answer.` */
  description?: string
  /** The name the model calls it by. @default the agent's key */
  name?: string
  /** End the parent run with the child's answer as its content (a team's `route` mode). @default false */
  stopAfterCall?: boolean
}

/** The input every agent tool takes. */
const agentToolInput = z.object({ input: z.string().describe('The task or question for the agent, with everything it needs to know') })

/** The target of each tool {@link agentTool} made. */
const targets = new WeakMap<Tool, AgentToolTarget>()

/**
 * A tool that runs agent `reference` (`key@version`, or `key`) as a child
 * run: input `{ input: string }`, output the child's answer (its parsed
 * output for an agent with an output schema); a child that failed or was
 * cancelled gives an error result naming its status. No timeout (a child
 * may wait for a person); the child is cancelled with its parent.
 */
export function agentTool(reference: string, options: AgentToolOptions = {}): Tool {
  if (typeof reference !== 'string' || !/^[A-Za-z0-9_.-]{1,128}(@[1-9][0-9]*)?$/.test(reference)) {
    throw new ValidationError(`Expected agentTool() to name an agent as \`key\` or \`key@version\`, got \`${String(reference)}\``)
  }
  if (typeof options !== 'object' || options === null) throw new ValidationError('Expected agentTool() options to be an object')
  const context = options.context ?? 'isolated'
  if (context !== 'isolated') {
    const turns = (context as { recentTurns?: unknown } | null)?.recentTurns
    if (typeof turns !== 'number' || !Number.isSafeInteger(turns) || turns < 1) {
      throw new ValidationError(`Expected the \`context\` of agentTool('${reference}') to be 'isolated' or { recentTurns: n } with n a positive integer`)
    }
  }
  const key = reference.split('@')[0] as string
  const made = tool({
    name: options.name ?? key,
    description: options.description ?? `Hands a task to the ${key} agent and returns its answer.`,
    input: agentToolInput,
    timeoutMs: 0,
    stopAfterCall: options.stopAfterCall ?? false,
    execute: () => {
      throw new Error(`Agent tool ${key} is executed by the runtime as a child run`)
    },
  })
  targets.set(made, { reference, context })
  return made
}

/** The agent a tool made by {@link agentTool} starts; undefined for any other tool. */
export function agentToolTarget(definition: Tool | undefined): AgentToolTarget | undefined {
  return definition === undefined ? undefined : targets.get(definition)
}
