/**
 * Handoffs: an agent's `handoffs: ['billing@1']` gives its model a
 * `transfer_to_billing` tool. Calling it hands the run over: the run goes
 * on with that agent (its instructions and tools, the run's route and
 * history kept) from the next model turn, and the log says so
 * (`agent.handoff { from, to, tool_call_id }`). The run's `personaId` stays
 * the agent it started with. A run hands off at most `maxHandoffs` times.
 */
import { z } from 'zod'
import { ValidationError } from './errors.js'
import type { RunLog } from './run-log.js'
import type { ToolCall } from './model.js'
import { tool, type Tool } from './tools.js'

/** How many handoffs a run may make when the runtime sets no `maxHandoffs`. */
export const defaultMaxHandoffs = 5

const references = new WeakMap<Tool, string>()

/** The handoff tool of `reference` (`key@version` or `key`): `transfer_to_<key>`, dots in the key as `_`. */
export function handoffTool(reference: string, from: string): Tool {
  if (typeof reference !== 'string' || !/^[A-Za-z0-9_.-]{1,128}(@[1-9][0-9]*)?$/.test(reference)) {
    throw new ValidationError(`Expected the \`handoffs\` of agent \`${from}\` to name agents as \`key\` or \`key@version\`, got \`${String(reference)}\``)
  }
  const key = reference.split('@')[0] as string
  const made = tool({
    name: `transfer_to_${key.replaceAll('.', '_')}`.slice(0, 64),
    description: `Hands the conversation over to the ${key} agent, which answers from here on. Use it when the request is ${key}'s to handle.`,
    input: z.object({}),
    execute: () => {
      throw new Error(`The handoff to ${key} is made by the runtime`)
    },
  })
  references.set(made, reference)
  return made
}

/** The agent a handoff tool hands over to; undefined for any other tool. */
export function handoffTarget(definition: Tool | undefined): string | undefined {
  return definition === undefined ? undefined : references.get(definition)
}

/**
 * Makes a handoff call: `agent.handoff` and the call's result, or an error
 * result when the run already handed off `max` times or this turn handed off already.
 */
export function appendHandoff(log: RunLog, call: ToolCall, from: string, to: string, max: number): void {
  const state = log.state
  const fail = (output: string): void => {
    log.append('tool.result', { tool_call_id: call.id, name: call.name, output, is_error: true, error_code: 'tool.failed' })
  }
  if (state.handoffs >= max) return fail(`The run has handed off ${max} times, its limit: answer as ${from}`)
  if (state.agentId !== undefined && state.agentId !== from) return fail(`This turn already handed the run over to ${state.agentId}`)
  log.append('agent.handoff', { from, to, tool_call_id: call.id })
  log.append('tool.result', { tool_call_id: call.id, name: call.name, output: `Transferred to ${to}.`, is_error: false })
}
