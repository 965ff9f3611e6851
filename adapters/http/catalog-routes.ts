/**
 * What a client may start runs with: `GET /v1/agents` (every agent version,
 * teams and workflows included) and `GET /v1/routes`. Both need the
 * caller's token like every other route; the runtime's agents and routes are
 * the same for every org, and neither lists a secret (no keys, no prices).
 */
import type { RequestContext } from './context.js'
import { jsonResponse } from './responses.js'

/** An agent on the wire. */
export interface AgentWire {
  /** `key@version`, what `persona_id` takes. */
  id: string
  key: string
  version: number
  name: string
  kind: 'agent' | 'team' | 'workflow'
  /** Its default route; null for the runtime's `default`. */
  route: string | null
  /** The names of its own tools. */
  tools: string[]
  memory: 'auto' | 'agentic' | null
}

/** `GET /v1/agents`: every agent version, by key then version. */
export async function listAgents(context: RequestContext): Promise<Response> {
  const agents: AgentWire[] = context.runtime.listAgents().map((agent) => ({
    id: agent.id,
    key: agent.key,
    version: agent.version,
    name: agent.name,
    kind: agent.workflow !== undefined ? 'workflow' : agent.team !== undefined ? 'team' : 'agent',
    route: agent.route ?? null,
    tools: [...agent.tools.keys()],
    memory: agent.memory?.mode ?? null,
  }))
  return jsonResponse(200, agents, context.traceId)
}

/** `GET /v1/routes`: every route with its provider key, model and fallbacks. */
export async function listRoutes(context: RequestContext): Promise<Response> {
  const routes = context.runtime.listRoutes().map((route) => ({ id: route.id, provider: route.provider, model: route.model ?? null, fallbacks: [...route.fallbacks] }))
  return jsonResponse(200, routes, context.traceId)
}
