/**
 * team(): several agents answering as one. A team is an agent definition
 * (started like an agent: `personaId` names it; a session made for its run
 * has type `team`) whose members are agent tools, each call a child run:
 * - `route`: the leader picks one member, whose answer is the team's, verbatim;
 * - `coordinate`: the leader delegates to members as it sees fit, then answers;
 * - `broadcast`: every member gets the input at once (a first turn the
 *   runtime makes, not the model), then the leader combines their answers.
 */
import { agentTool } from './agent-tools.js'
import type { AgentDefinition } from './agents.js'
import { ValidationError } from './errors.js'
import type { Json } from './events.js'
import type { ToolCall } from './model.js'

/** How a team answers. */
export type TeamMode = 'route' | 'coordinate' | 'broadcast'

/** What makes an agent definition a team (set by {@link team}). */
export interface TeamSpec {
  mode: TeamMode
  /** The members' agent references, in order. */
  members: readonly string[]
}

/** The definition passed to {@link team}. */
export interface TeamDefinition {
  key: string
  version: number
  /** A display name. @default key */
  name?: string
  /** The member agents (`key@version` or `key`), at least one; each must be defined when the team is used. */
  members: readonly string[]
  mode: TeamMode
  /**
   * The agent that leads: its instructions, route, limits and own tools are
   * the team's (the members' tools added). @default built-in instructions for the mode, the default route
   */
  leader?: AgentDefinition
  /** The leader's instructions, in place of the leader's own or the built-in ones. @default the leader's, else built-in */
  instructions?: string
}

const modes: readonly TeamMode[] = ['route', 'coordinate', 'broadcast']

/** The instructions a team's leader gets when it is given none. */
export function defaultTeamInstructions(mode: TeamMode, members: readonly string[]): string {
  const list = members.map((member) => member.split('@')[0]).join(', ')
  if (mode === 'route') return `You route each request to the one team member best placed to answer it (${list}): call that member's tool with the request. Its answer is the team's.`
  if (mode === 'coordinate') return `You lead a team (${list}). Hand parts of the request to members through their tools, then answer with what they found.`
  return `Every member of your team (${list}) has answered the request. Combine their answers into one.`
}

/** A team, as an agent definition to give `Runtime.open({ agents })` or `defineAgent`. */
export function team(definition: TeamDefinition): AgentDefinition {
  if (typeof definition !== 'object' || definition === null) throw new ValidationError('Expected a team definition object')
  const { key, mode, members } = definition
  if (!modes.includes(mode)) throw new ValidationError(`Expected \`mode\` of team \`${String(key)}\` to be one of ${modes.join(', ')}, got \`${String(mode)}\``)
  if (!Array.isArray(members) || members.length === 0) throw new ValidationError(`Expected \`members\` of team \`${String(key)}\` to name at least one agent`)
  const leader = definition.leader
  const tools = members.map((member) => agentTool(member, { stopAfterCall: mode === 'route' }))
  const names = new Set(tools.map((made) => made.name))
  if (names.size !== tools.length) throw new ValidationError(`Team \`${String(key)}\` names one member twice`)
  const spec: TeamSpec = { mode, members: [...members] }
  const made: AgentDefinition = {
    ...leader,
    key,
    version: definition.version,
    name: definition.name ?? key,
    instructions: definition.instructions ?? leader?.instructions ?? defaultTeamInstructions(mode, members),
    tools: [...(mode === 'coordinate' ? (leader?.tools ?? []) : []), ...tools],
    team: spec,
  }
  return made
}

/** The tool calls of a broadcast team's first turn: every member, with the run's input. */
export function broadcastCalls(spec: TeamSpec, memberTools: readonly string[], input: string): ToolCall[] {
  const args: Json = { input }
  return spec.members.map((_, index) => ({ id: `call_broadcast_${index + 1}`, name: memberTools[index] as string, arguments: JSON.stringify(args) }))
}
