/**
 * What `createRun` settles before anything is written: its options, the
 * session (made for the run when none is named), the agent and the route.
 * Everything a request can get wrong is refused here, so a refused run
 * leaves nothing behind, not even the session it would have made.
 */
import type { Agent, AgentRegistry } from './agents.js'
import { NotFoundError, ValidationError } from './errors.js'
import { assertUnansweredMessage } from './messages.js'
import type { ModelProvider } from './model.js'
import { resolveRoute, type ResolvedRoute, type Route } from './routes.js'
import { parseCreateRunOptions, type ParsedCreateRunOptions } from './runtime-options.js'
import { workflowInput } from './workflows.js'
import type { CreateSessionOptions, Scope } from './sessions.js'
import type { Session, Store } from './store.js'

/** What resolving a run's target needs from the runtime. */
export interface RunTargetHost {
  store: Store
  agents: AgentRegistry
  routes: Record<string, Route>
  providers: Record<string, ModelProvider>
  defaultAgent: string | undefined
  maxInputBytes: number
  getSession(sessionId: string, scope: Scope): Promise<Session>
  createSession(options: CreateSessionOptions): Promise<Session>
}

/** A run's checked options, its session, agent and route. */
export interface RunTarget {
  options: ParsedCreateRunOptions
  session: Session
  agent: Agent
  route: ResolvedRoute
}

/**
 * Checks `createRun`'s arguments and finds (or, with no session id, makes)
 * what the run needs. A run without `input` answers its session's thread
 * messages: on a new session it has none (`validation.invalid`), and a
 * session with no unanswered message refuses it (`state.invalid`).
 */
export async function resolveRunTarget(host: RunTargetHost, sessionId: string | undefined, rawOptions: unknown): Promise<RunTarget> {
  const options = parseCreateRunOptions(rawOptions, host.maxInputBytes)
  const { input, personaId, routeId, orgId, createdBy } = options
  const defaultReference = (): string => {
    const reference = host.defaultAgent ?? host.agents.firstKey()
    if (reference === undefined) throw new NotFoundError('not_found.agent', 'No agent is defined')
    return reference
  }
  const routeOf = (agent: Agent): ResolvedRoute => resolveRoute(routeId ?? agent.route ?? 'default', host.routes, host.providers)
  if (sessionId === undefined) {
    if (input === undefined) throw new ValidationError('Expected `input`: a run on a new session has no thread messages to answer')
    // Resolve before the session is made, so a bad agent or route leaves no stray session behind.
    const agent = host.agents.resolveReference(personaId ?? defaultReference())
    checkWorkflowInput(agent, input)
    const route = routeOf(agent)
    const session = await host.createSession({
      ...(personaId === undefined ? {} : { agent: typeof personaId === 'string' ? personaId : agent.id }),
      ...(orgId === undefined ? {} : { orgId }),
      ...(createdBy === null ? {} : { createdBy }),
    })
    return { options, session, agent, route }
  }
  const session = await host.getSession(sessionId, { orgId })
  const agent = host.agents.resolveReference(personaId ?? session.agent ?? defaultReference())
  checkWorkflowInput(agent, input)
  const route = routeOf(agent)
  if (input === undefined) await assertUnansweredMessage(host.store, session.id)
  return { options, session, agent, route }
}

/** A workflow's run must be given input its schema takes (`validation.invalid` otherwise, before anything is written). */
function checkWorkflowInput(agent: Agent, input: string | undefined): void {
  if (agent.workflow !== undefined && input !== undefined) workflowInput(agent.workflow, input)
}
