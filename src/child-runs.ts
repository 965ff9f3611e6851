/**
 * Child runs: an agent-tool call (`agentTool`) runs another agent as an
 * ordinary run of its own, in the parent's session, with its own dense log.
 * The parent's log holds the references (`subrun.started`, then
 * `subrun.completed` with the call's `tool.result`).
 *
 * Exactly once: the child is inserted before its `subrun.started`, and the
 * store refuses a second child for one (parent, tool call); a parent resumed
 * after a crash adopts the child the refusal names. A parent whose calls
 * wait on children ends its stretch (giving its concurrency slot back) and
 * is woken by a watcher that follows each child's log, mirrors the child's
 * requests for input into the parent (see child-input.ts), and wakes the
 * parent once the child ended.
 */
import type { Agent, AgentRegistry } from './agents.js'
import { agentToolTarget, type AgentToolTarget } from './agent-tools.js'
import { NotFoundError, StateError, toErrorInfo, type ErrorCode } from './errors.js'
import { readRunEvents, type EventHub, type LiveRuns } from './event-stream.js'
import type { EventDataMap, Json } from './events.js'
import { effectiveLimits } from './limits.js'
import type { Logger } from './logger.js'
import type { Message, ToolCall } from './model.js'
import { resolveRoute, type ResolvedRoute, type Route } from './routes.js'
import type { ModelProvider } from './model.js'
import { RunLog } from './run-log.js'
import { createRunRecord } from './run-record.js'
import { createRunState, openRequests, outputText } from './run-state.js'
import { initialMessages, type ActiveRun } from './active-run.js'
import type { Scheduler } from './scheduler.js'
import { isTerminalStatus, type Run, type Store } from './store.js'
import { ChildInputMirror } from './child-input.js'
import { appendHandoff, handoffTarget } from './handoffs.js'

/** What child runs need from the runtime. */
export interface ChildRunsHost {
  store: Store
  hub: EventHub
  scheduler: Scheduler
  agents: AgentRegistry
  routes: Record<string, Route>
  providers: Record<string, ModelProvider>
  /** The owner new children are inserted for (this runtime). */
  ownerId: string | undefined
  /** The deepest a child may be (`maxDepth`): a top-level run is depth 0. */
  maxDepth: number
  /** How many handoffs a run may make (`maxHandoffs`). */
  maxHandoffs: number
  live: LiveRuns
  logger: Logger
  isClosed: () => boolean
}

/** The text a child is sent of its parent's recent conversation (`context: { recentTurns }`), before its input. */
export function transcriptOf(messages: readonly Message[], turns: number): string {
  const said = messages.filter((message) => (message.role === 'user' || message.role === 'assistant') && message.content !== '')
  const recent = said.slice(-turns)
  if (recent.length === 0) return ''
  return `The conversation so far:\n${recent.map((message) => `${message.role}: ${message.content}`).join('\n')}\n\nYour task:\n`
}

/** The tool result and reference of an ended child. */
function endOf(child: Run, toolCallId: string, agentKey: string): { completed: EventDataMap['subrun.completed']; result: Omit<EventDataMap['tool.result'], 'tool_call_id' | 'name'> } {
  const status = child.status as 'completed' | 'failed' | 'cancelled'
  const answer = (child.output ?? child.content ?? '') as Json
  const output: Json = status === 'completed' ? answer : status === 'failed' ? (child.error?.message ?? 'failed') : (child.content ?? '')
  const { metrics } = child
  const completed: EventDataMap['subrun.completed'] = {
    child_run_id: child.id,
    tool_call_id: toolCallId,
    status,
    output,
    usage: { input_tokens: metrics.inputTokens, output_tokens: metrics.outputTokens, cached_input_tokens: metrics.cachedInputTokens, reasoning_tokens: metrics.reasoningTokens },
    total_cost_usd: child.totalCostUsd,
    credits_used: child.creditsUsed,
  }
  if (status === 'completed') return { completed, result: { output: answer, is_error: false } }
  const text = status === 'failed' ? `The ${agentKey} agent failed (child run ${child.id}): ${outputText(output)}` : `The ${agentKey} agent was cancelled (child run ${child.id})`
  return { completed, result: { output: text, is_error: true, error_code: status === 'failed' ? 'tool.failed' : 'tool.cancelled' } }
}

/** The child runs of one runtime. */
export class ChildRuns {
  readonly #host: ChildRunsHost
  /** The watcher of each child this runtime follows for a parent it holds. */
  readonly #watched = new Set<string>()
  readonly #mirror: ChildInputMirror
  /** The controller of each watcher, aborted when the runtime closes (one each: a shared signal would collect a listener per watcher). */
  readonly #followers = new Set<AbortController>()

  constructor(host: ChildRunsHost) {
    this.#host = host
    this.#mirror = new ChildInputMirror(host.logger)
  }

  /**
   * Runs one agent-tool call of `parent`: starts its child (or adopts the
   * one a crash left), or, once the child ended, appends `subrun.completed`
   * and the call's `tool.result`. Leaves the call open while the child runs.
   */
  async runCall(parent: ActiveRun, call: ToolCall, input: string, target: AgentToolTarget, fresh: boolean): Promise<void> {
    const phase = parent.log.state.toolPhase
    if (phase === undefined) return
    const childId = phase.children.get(call.id) ?? (fresh ? undefined : await this.#orphan(parent, call.id)) ?? (await this.#start(parent, call, input, target))
    if (childId !== undefined) await this.#reconcile(parent, call, childId)
  }

  /** Hands `parent` over to agent `reference` (a `transfer_to_*` call), or gives the call an error result. */
  handoff(parent: ActiveRun, call: ToolCall, reference: string): void {
    let to: Agent
    try {
      to = this.#host.agents.resolve(reference)
    } catch (error) {
      parent.log.append('tool.result', { tool_call_id: call.id, name: call.name, output: toErrorInfo(error).message, is_error: true, error_code: 'tool.failed' })
      return
    }
    appendHandoff(parent.log, call, parent.agent.id, to.id, this.#host.maxHandoffs)
  }

  /** Stops every watcher (the runtime closes; the next runtime on the store recovers the runs). */
  close(): void {
    const closing = new Error('The runtime is closing')
    for (const follower of this.#followers) follower.abort(closing)
  }

  /**
   * Where input for `runId` goes: a request the run mirrors from a child is
   * answered in that child (`run_id`), with the child's tool call id; the
   * run's own requests in the run itself.
   */
  async inputTarget(runId: string, toolCallId: string | undefined, orgId: string | undefined, getRun: () => Promise<Run>): Promise<{ runId: string; toolCallId: string | undefined }> {
    const held = this.#host.scheduler.get(runId)
    const visible = held !== undefined && !held.log.sealed && (orgId === undefined || held.run.orgId === orgId)
    // Another org's run is `not_found.run` (getRun), before anything of it is read.
    const pending = visible ? openRequests(held.log.state.toolPhase) : (await getRun()).pendingInput
    // The run's own request first, when a child's has the same tool call id.
    const request = toolCallId === undefined ? pending[0] : (pending.find((entry) => entry.tool_call_id === toolCallId && entry.run_id === undefined) ?? pending.find((entry) => entry.tool_call_id === toolCallId))
    if (request?.run_id === undefined) return { runId, toolCallId }
    return { runId: request.run_id, toolCallId: request.tool_call_id }
  }

  /**
   * Cancels the unfinished descendants of a cancelled run, children first,
   * each through `cancel` (wherever it executes); one that ended meanwhile is skipped.
   */
  async cancelDescendants(runId: string, cancel: (childId: string) => Promise<void>): Promise<void> {
    const children = await this.#host.store.listRuns({ parentRunId: runId, statuses: ['queued', 'running', 'waiting_for_input'], limit: 1000 })
    for (const child of children) {
      await cancel(child.id).catch((error: unknown) => {
        if (!(error instanceof StateError)) throw error
      })
      await this.cancelDescendants(child.id, cancel)
    }
  }

  /** Checks that every agent tool and handoff of `agent` names a defined agent (`not_found.agent` otherwise). */
  checkAgentTools(agent: Agent): void {
    for (const definition of agent.tools.values()) {
      const reference = agentToolTarget(definition)?.reference ?? handoffTarget(definition)
      if (reference === undefined) continue
      try {
        this.#host.agents.resolve(reference)
      } catch {
        throw new NotFoundError('not_found.agent', `Agent ${agent.id} has tool ${definition.name} for agent ${reference}, which is not defined: define it first`)
      }
    }
  }

  /** Follows every child `parent` waits on, waking it when one ends (see the module comment). */
  watch(parent: ActiveRun): void {
    for (const childId of parent.log.state.openChildren) {
      if (this.#watched.has(childId)) continue
      this.#watched.add(childId)
      void this.#follow(parent, childId)
    }
  }

  async #follow(parent: ActiveRun, childId: string): Promise<void> {
    const { store, hub, live, scheduler } = this.#host
    const view = this.#mirror.open(parent, childId)
    const follower = new AbortController()
    this.#followers.add(follower)
    try {
      for await (const event of readRunEvents(store, hub, childId, { signal: follower.signal }, live)) {
        if (this.#host.isClosed() || parent.log.sealed) break
        if (view.apply(event)) this.#mirror.reconcile(parent)
      }
    } catch (error) {
      if (!this.#host.isClosed()) this.#host.logger.error(`hearth: could not follow child run ${childId} of run ${parent.run.id}`, error)
    } finally {
      this.#followers.delete(follower)
      this.#watched.delete(childId)
      this.#mirror.close(parent, childId)
    }
    // Ended (or unreadable): the parent's next stretch records the end, or finds the child unfinished and watches again.
    if (!this.#host.isClosed()) scheduler.wake(parent)
  }

  /**
   * The child a crash left between its insert and the parent's
   * `subrun.started` (only a call announced before this stretch can have
   * one): adopted, its `subrun.started` appended now.
   */
  async #orphan(parent: ActiveRun, callId: string): Promise<string | undefined> {
    const children = await this.#host.store.listRuns({ parentRunId: parent.run.id, limit: 1000 })
    const orphan = children.find((child) => child.parentToolCallId === callId)
    if (orphan === undefined) return undefined
    parent.log.append('subrun.started', { child_run_id: orphan.id, agent: orphan.personaId, tool_call_id: callId, input: orphan.input })
    return orphan.id
  }

  /** Inserts the call's child and appends `subrun.started`; undefined when the call got an error result instead. */
  async #start(parent: ActiveRun, call: ToolCall, input: string, target: AgentToolTarget): Promise<string | undefined> {
    const context = target.context === 'isolated' ? '' : transcriptOf(parent.log.state.messages, target.context.recentTurns)
    const started = await this.#insertChild(parent, call.id, target.reference, `${context}${input}`)
    if ('childId' in started) return started.childId
    parent.log.append('tool.result', { tool_call_id: call.id, name: call.name, output: started.error.message, is_error: true, error_code: started.error.code })
    return undefined
  }

  /**
   * Inserts a child run of agent `reference` for the parent's call `callId`
   * and appends `subrun.started`; or says why it cannot (too deep, an agent
   * or route not defined).
   */
  async #insertChild(parent: ActiveRun, callId: string, reference: string, childInput: string): Promise<{ childId: string } | { error: { code: ErrorCode; message: string } }> {
    const host = this.#host
    const { log } = parent
    const depth = parent.run.depth + 1
    if (depth > host.maxDepth) return { error: { code: 'run.depth_exceeded', message: `Starting agent ${reference} would make a child run at depth ${depth}, past the limit of ${host.maxDepth}` } }
    let agent: Agent
    let route: ResolvedRoute
    try {
      agent = host.agents.resolve(reference)
      route = resolveRoute(agent.route ?? 'default', host.routes, host.providers)
    } catch (error) {
      return { error: { code: 'tool.failed', message: toErrorInfo(error).message } }
    }
    const now = new Date().toISOString()
    const run = createRunRecord({
      sessionId: parent.run.sessionId,
      orgId: parent.run.orgId,
      traceId: parent.run.traceId,
      personaId: agent.id,
      route,
      input: childInput,
      messageIds: null,
      createdBy: parent.run.createdBy,
      createdAt: now,
      limits: effectiveLimits(agent.limits, undefined),
      parent: { run: parent.run, toolCallId: callId },
    })
    const childLog = new RunLog(host.store, host.hub, run, createRunState(initialMessages(agent, childInput, now)))
    // As a top-level run's, the insert rides in the child's first commit (with its run.started). The parent
    // names the child only once that commit landed: a crash between the two leaves a child the resumed
    // parent adopts, never a name without a child. The store refuses a second child for the call
    // (child_exists), so no crash ever makes two.
    childLog.insert(run, host.ownerId)
    const inserted = childLog.committed()
    host.scheduler.startChild(host.scheduler.track(run, childLog, agent, route))
    await inserted
    log.append('subrun.started', { child_run_id: run.id, agent: agent.id, tool_call_id: callId, input: childInput })
    return { childId: run.id }
  }

  /**
   * A workflow's child step (`ctx.runAgent`): the child of the parent's call
   * `callId`, started (or adopted after a crash) when there is none; its
   * record once it ended, `'running'` while it runs, or why it could not start.
   */
  async childStep(parent: ActiveRun, callId: string, reference: string, input: string): Promise<Run | 'running' | { refused: { code: ErrorCode; message: string } }> {
    let childId = parent.log.state.childCalls.get(callId) ?? (await this.#orphan(parent, callId))
    if (childId === undefined) {
      const started = await this.#insertChild(parent, callId, reference, input)
      if (!('childId' in started)) return { refused: started.error }
      childId = started.childId
    }
    const child = await this.#ended(childId)
    if (child === undefined) return { refused: { code: 'workflow.failed', message: `Child run ${childId} no longer exists` } }
    if (child === 'running') return 'running'
    parent.log.append('subrun.completed', endOf(child, callId, child.personaId.split('@')[0] as string).completed)
    return child
  }

  /** A child's record once it ended, `'running'` while it runs, undefined when it no longer exists. */
  async #ended(childId: string): Promise<Run | 'running' | undefined> {
    const held = this.#host.scheduler.get(childId)
    if (held !== undefined && !held.log.sealed) return 'running'
    // Its end committed before it is read.
    await held?.log.flush().catch(() => {})
    const child = await this.#host.store.getRun(childId)
    if (child === undefined) return undefined
    return isTerminalStatus(child.status) ? child : 'running'
  }

  /** Records the child's end in the parent when it ended; nothing while it runs. */
  async #reconcile(parent: ActiveRun, call: ToolCall, childId: string): Promise<void> {
    const child = await this.#ended(childId)
    const { log } = parent
    if (child === undefined) {
      log.append('tool.result', { tool_call_id: call.id, name: call.name, output: `Child run ${childId} no longer exists`, is_error: true, error_code: 'tool.failed' })
      return
    }
    if (child === 'running') return
    const { completed, result } = endOf(child, call.id, child.personaId.split('@')[0] as string)
    log.append('subrun.completed', completed)
    // A stopAfterCall agent tool (a routing team's member) ends the parent with the child's answer, verbatim.
    const stop = parent.agent.tools.get(call.name)?.stopAfterCall === true && !result.is_error
    log.append('tool.result', { tool_call_id: call.id, name: call.name, ...result, ...(stop ? { stop_after_call: true } : {}) })
  }
}
