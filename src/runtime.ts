/**
 * Runtime: the object an app holds. It wires the store, the providers, the
 * agents, the scheduler and the event hub, and checks every argument before
 * anything is written.
 */
import type { output, ZodType } from 'zod'
import { AgentRegistry, builtInAgent, type Agent, type AgentDefinition } from './agents.js'
import { NotFoundError, StateError, ValidationError } from './errors.js'
import { Messages, type AddMessageOptions, type ListMessagesOptions } from './messages.js'
import { EventHub, readAllEvents, readRunEvents, type FeedOptions, type LiveRuns, type RunEventsOptions } from './event-stream.js'
import type { RunEvent } from './events.js'
import { resolveLogger, type Logger } from './logger.js'
import { memoryStore } from './memory-store.js'
import type { ModelProvider } from './model.js'
import { checkRoutes, resolveRoute, type Route } from './routes.js'
import { RunHandle } from './run-handle.js'
import { Scheduler } from './scheduler.js'
import { Toolsets } from './toolsets.js'
import { recoverRuns } from './recovery.js'
import { RecoveryPasses } from './recovery-passes.js'
import { RunControl } from './run-control.js'
import { ChildRuns } from './child-runs.js'
import { readRunTree, type RunTree } from './run-tree.js'
import { pruneFinishedRuns, type PruneOptions } from './prune.js'
import { checkAfterSeq, checkEventLimit, listRunsChecked } from './run-queries.js'
import { admitRun } from './run-entry.js'
import { resolveRunTarget, type RunTargetHost } from './run-target.js'
import {
  parseInputOptions,
  positiveInteger,
  providersAndRoutes,
  runtimeSettings,
  type CreateRunOptions,
  type InputOptions,
  type ListRunsOptions,
  type RuntimeOptions,
} from './runtime-options.js'
import { EndedRuns } from './ended-runs.js'
import { Ownership } from './ownership.js'
import { Sessions, type CreateSessionOptions, type ListSessionsOptions, type Scope, type UpdateSessionOptions } from './sessions.js'
import { isTerminalStatus, type Run, type Session, type Store, type ThreadMessage } from './store.js'
import { optionalString } from './validate.js'
import { checkAgentMemory } from './agent-memory.js'
import { attachTelemetry, checkTelemetry } from './telemetry.js'
import { MemoryApi } from './memory-api.js'

/** An agent runtime inside this process. Create one with {@link Runtime.open}. */
export class Runtime {
  readonly #store: Store
  readonly #providers: Record<string, ModelProvider>
  readonly #routes: Record<string, Route>
  readonly #agents = new AgentRegistry()
  readonly #hub = new EventHub()
  readonly #scheduler: Scheduler
  /** The events of the runs ended here last, for readers who come right after the end. */
  readonly #ended = new EndedRuns()
  readonly #options: RuntimeOptions
  readonly #sessions: Sessions
  readonly #messages: Messages
  readonly #runTarget: RunTargetHost
  readonly #maxInputBytes: number
  readonly #ownership: Ownership
  readonly #execute: boolean
  readonly #logger: Logger
  readonly #control: RunControl
  #unwatch: (() => void) | undefined
  readonly #passes: RecoveryPasses
  readonly #toolsets: Toolsets
  readonly #children: ChildRuns
  readonly #maxDepth: number
  #closed = false

  /** User memories: list, read, add, change and delete them, each call naming its user (see docs/memory.md). */
  readonly memories: MemoryApi

  private constructor(options: RuntimeOptions) {
    const store = options.store ?? memoryStore()
    this.memories = new MemoryApi(store)
    this.#logger = resolveLogger(options.logger)
    this.#sessions = new Sessions({
      store,
      resolveAgent: (reference) => this.#agents.resolve(reference),
      cancelSessionRuns: (sessionId) => this.#cancelSessionRuns(sessionId),
      assertOpen: () => this.#assertOpen(),
    })
    this.#options = options
    this.#store = store
    const { providers, routes } = providersAndRoutes(options)
    this.#providers = providers
    this.#routes = routes
    checkRoutes(this.#routes, this.#providers)
    const settings = runtimeSettings(options)
    const { creditsPerUsd } = settings
    this.#toolsets = new Toolsets(options.toolsets, this.#logger)
    this.#scheduler = new Scheduler({
      extendAgent: (agent) => this.#toolsets.extend(agent),
      store,
      hub: this.#hub,
      concurrency: settings.concurrency,
      toolConcurrency: settings.toolConcurrency,
      creditsPerUsd,
      logger: this.#logger,
      onDropped: () => this.#passes.soon(),
      onEnded: (run, events) => this.#ended.add(run.id, run.sessionId, events),
      childCalls: (active) => ({ run: (call, input, target, fresh) => this.#children.runCall(active, call, input, target, fresh), handoff: (call, reference) => this.#children.handoff(active, call, reference), step: (callId, reference, input) => this.#children.childStep(active, callId, reference, input) }),
      onChildren: (active) => this.#children.watch(active),
      resolveAgent: (id) => this.#agents.resolve(id),
    })
    this.#maxInputBytes = settings.maxInputBytes
    this.#messages = new Messages({
      store,
      getSession: (sessionId, scope) => this.#sessions.get(sessionId, scope),
      assertOpen: () => this.#assertOpen(),
      maxInputBytes: this.#maxInputBytes,
    })
    this.#execute = settings.execute
    this.#ownership = new Ownership(store, settings.leaseMs, this.#logger)
    this.#passes = new RecoveryPasses(() => this.#recover(), () => this.#closed, this.#logger)
    this.#children = new ChildRuns({
      store,
      hub: this.#hub,
      scheduler: this.#scheduler,
      agents: this.#agents,
      routes: this.#routes,
      providers: this.#providers,
      ownerId: this.#execute ? this.#ownership.ownerId : undefined,
      maxDepth: (this.#maxDepth = settings.maxDepth),
      maxHandoffs: settings.maxHandoffs,
      live: this.#liveRuns,
      logger: this.#logger,
      isClosed: () => this.#closed,
    })
    this.#control = new RunControl({
      store,
      scheduler: this.#scheduler,
      getRun: (runId, scope) => this.getRun(runId, scope),
      executes: this.#execute,
      ownerId: this.#execute ? this.#ownership.ownerId : undefined,
      recover: () => this.#recover(),
      timeoutMs: settings.controlTimeoutMs,
      logger: this.#logger,
    })
    const agents = options.agents ?? []
    const workflows = options.workflows ?? []
    if (!Array.isArray(agents)) throw new TypeError('Expected `agents` to be an array of agent definitions')
    if (!Array.isArray(workflows)) throw new TypeError('Expected `workflows` to be an array of workflow() definitions')
    for (const definition of [...(agents.length === 0 ? [builtInAgent] : agents), ...workflows]) this.#toolsets.check(this.#agents.define(definition))
    for (const agent of this.#agents.list()) {
      this.#children.checkAgentTools(agent)
      checkAgentMemory(agent, store, this.#routes)
    }
    if (options.defaultAgent !== undefined) this.#agents.resolve(options.defaultAgent)
    this.#runTarget = {
      store,
      agents: this.#agents,
      routes: this.#routes,
      providers: this.#providers,
      defaultAgent: options.defaultAgent,
      maxInputBytes: this.#maxInputBytes,
      getSession: (id, scope) => this.getSession(id, scope),
      createSession: (sessionOptions) => this.createSession(sessionOptions),
    }
  }

  /** Opens the store (storage errors surface here), defines the agents and recovers unfinished runs. */
  static async open(options: RuntimeOptions = {}): Promise<Runtime> {
    if (typeof options !== 'object' || options === null) throw new TypeError('Expected `options` to be an object')
    const runtime = new Runtime(options)
    const telemetry = checkTelemetry(options.telemetry)
    if (telemetry !== undefined) {
      await telemetry.open?.()
      attachTelemetry(runtime.#hub, telemetry, (runId) => runtime.#scheduler.get(runId)?.run)
    }
    await runtime.#store.open()
    try {
      await runtime.#toolsets.ready()
      if (runtime.#execute) {
        await runtime.#ownership.register()
        await runtime.#recover()
        runtime.#ownership.startHeartbeat(() => runtime.#passes.soon())
      }
      runtime.#unwatch = runtime.#store.watch?.((runIds, freed) => {
        runtime.#hub.poke(runIds)
        runtime.#control.storeChanged()
        if (!runtime.#execute) return
        // A change that only appended events to runs (runIds given) leaves nothing to claim or take up;
        // one that ended runs may have freed a session a run here waits for.
        if (runIds === undefined) runtime.#passes.soon()
        else if (freed === true) runtime.#scheduler.retryBlocked()
      })
      runtime.#hub.watching = runtime.#unwatch !== undefined
    } catch (error) {
      await runtime.#ownership.stop().catch(() => {})
      await runtime.#store.close().catch(() => {})
      await runtime.#toolsets.close()
      throw error
    }
    return runtime
  }

  /** This runtime's owner id in the store (undefined for an observer, or a store without owners). */
  get ownerId(): string | undefined {
    return this.#execute ? this.#ownership.ownerId : undefined
  }

  /** The store this runtime writes to. */
  get store(): Store {
    return this.#store
  }

  /** Defines an agent version; redefining `key@version` with other content fails with `state.invalid`. */
  defineAgent<Schema extends ZodType = ZodType>(definition: AgentDefinition<Schema>): Agent<output<Schema>> {
    const agent = this.#agents.define(definition)
    this.#toolsets.check(agent)
    this.#children.checkAgentTools(agent)
    checkAgentMemory(agent, this.#store, this.#routes)
    return agent as Agent<output<Schema>>
  }

  /** Every defined agent version (teams and workflows included), by key then version. */
  listAgents(): Agent[] {
    return this.#agents.list().sort((a, b) => (a.key === b.key ? a.version - b.version : a.key < b.key ? -1 : 1))
  }

  /** The routes: each id with its provider's key, its model (the provider's own when the route names none) and its fallbacks. */
  listRoutes(): { id: string; provider: string; model: string | undefined; fallbacks: readonly string[] }[] {
    return Object.entries(this.#routes).map(([id, route]) => ({ id, provider: route.provider, model: route.model ?? this.#providers[route.provider]?.model, fallbacks: route.fallbacks ?? [] }))
  }

  /** Resolves `key` (latest) or `key@version`. */
  getAgent(reference: string): Agent {
    return this.#agents.resolve(reference)
  }

  /** Creates a session (thread). `not_found.agent` when `agent` names no defined agent. */
  createSession(options: CreateSessionOptions = {}): Promise<Session> {
    return this.#sessions.create(options)
  }

  /** A session; `not_found.thread` when unknown or of another org. */
  getSession(sessionId: string, scope: Scope = {}): Promise<Session> {
    return this.#sessions.get(sessionId, scope)
  }

  /** Sessions of an org (and user), newest first, with the cursor `before`. */
  listSessions(options: ListSessionsOptions = {}): Promise<Session[]> {
    return this.#sessions.list(options)
  }

  /** Changes a session's title, metadata, state or default agent. */
  updateSession(sessionId: string, changes: UpdateSessionOptions, scope: Scope = {}): Promise<Session> {
    return this.#sessions.update(sessionId, changes, scope)
  }

  /** Deletes a session with its runs and events, cancelling its active and queued runs first. */
  async deleteSession(sessionId: string, scope: Scope = {}): Promise<void> {
    try {
      await this.#sessions.delete(sessionId, scope)
    } finally {
      this.#ended.forgetSession(sessionId)
    }
  }

  /** Adds a user's message to a session (thread), unanswered until a run created without `input` takes it. */
  addMessage(sessionId: string, options: AddMessageOptions): Promise<ThreadMessage> {
    return this.#messages.add(sessionId, options)
  }

  /** A session's messages, newest first, with the cursor `before`. */
  listMessages(sessionId: string, options: ListMessagesOptions = {}): Promise<ThreadMessage[]> {
    return this.#messages.list(sessionId, options)
  }

  /**
   * Starts a run on a session, or on a new session made for it when no
   * session id is given (`createRun({ input })`; the handle has its
   * `sessionId`). Resolves once the run is stored; it executes in the background.
   */
  createRun<Output = unknown>(options: CreateRunOptions<Output> & { input: string }): Promise<RunHandle<Output>>
  createRun<Output = unknown>(sessionId: string, options: CreateRunOptions<Output>): Promise<RunHandle<Output>>
  async createRun(sessionIdOrOptions: string | CreateRunOptions, maybeOptions?: CreateRunOptions): Promise<RunHandle> {
    this.#assertOpen()
    const ownSession = typeof sessionIdOrOptions !== 'string'
    const { options, session, agent, route } = await resolveRunTarget(
      this.#runTarget,
      ownSession ? undefined : sessionIdOrOptions,
      ownSession ? sessionIdOrOptions : maybeOptions,
    )
    const { input, multitask, createdBy, traceId, limits } = options
    // The session's holder in the store: a run of another runtime when this one does not hold it.
    let elsewhere = session.activeRunId !== null && this.#scheduler.get(session.activeRunId) === undefined
    if (this.#scheduler.isBusy(session.id) || elsewhere) {
      if (multitask === 'reject') {
        throw new StateError(`Session ${session.id} already has an active run`, { code: 'state.thread_busy' })
      }
      if (multitask === 'interrupt') {
        await this.#cancelSessionRuns(session.id, 'Interrupted by a newer run')
        elsewhere = false
      }
    }
    const run = await admitRun(
      { store: this.#store, hub: this.#hub, scheduler: this.#scheduler, execute: this.#execute, ownerId: this.#ownership.ownerId },
      { session, agent, route, input, createdBy, traceId, limits, first: multitask === 'interrupt', elsewhere },
    )
    return new RunHandle(this, run)
  }

  /** A run's record; `not_found.run` when unknown or of another org. */
  async getRun(runId: string, scope: { orgId?: string | undefined } = {}): Promise<Run> {
    if (typeof runId !== 'string' || runId === '') throw new ValidationError('Expected `runId` to be a non-empty string')
    const run = await this.#store.getRun(runId)
    if (run === undefined || (scope.orgId !== undefined && run.orgId !== scope.orgId)) {
      throw new NotFoundError('not_found.run', `Run ${runId} does not exist`)
    }
    return run
  }

  /** A run with its child runs, recursively (`depth` levels, at most `maxDepth`); `not_found.run` when unknown or of another org. */
  async getRunTree(runId: string, options: { orgId?: string; depth?: number } = {}): Promise<RunTree> {
    const depth = positiveInteger(options.depth ?? this.#maxDepth, 'depth', this.#maxDepth)
    return readRunTree(this.#store, await this.getRun(runId, { orgId: options.orgId }), Math.min(depth, this.#maxDepth))
  }

  /** A handle on an existing run. */
  async run(runId: string, scope: { orgId?: string } = {}): Promise<RunHandle> {
    return new RunHandle(this, await this.getRun(runId, scope))
  }

  /** Runs, newest first, by org, session and status, with the cursor `before`. */
  listRuns(options: ListRunsOptions = {}): Promise<Run[]> {
    return listRunsChecked(this.#store, options)
  }

  /** A page of a run's stored events after `afterSeq` (no waiting for live ones). */
  async readEvents(runId: string, options: { afterSeq?: number; limit?: number; orgId?: string } = {}): Promise<RunEvent[]> {
    const afterSeq = checkAfterSeq(options.afterSeq)
    const limit = checkEventLimit(options.limit, 1000)
    await this.getRun(runId, { orgId: options.orgId })
    return this.#store.readEvents(runId, afterSeq, limit)
  }

  /** A run's events after `afterSeq`: replay, then live, ending after the terminal event. */
  runEvents(runId: string, options: RunEventsOptions & { orgId?: string } = {}): AsyncIterable<RunEvent> {
    checkAfterSeq(options.afterSeq)
    const store = this.#store
    const hub = this.#hub
    const getRun = (): Promise<Run> => this.getRun(runId, { orgId: options.orgId })
    const live = this.#liveRuns
    // Without an org to check, hand out the reader itself: one generator layer per event, not two.
    if (options.orgId === undefined) return { [Symbol.asyncIterator]: () => readRunEvents(store, hub, runId, options, live) }
    return {
      async *[Symbol.asyncIterator]() {
        if (options.orgId !== undefined) await getRun()
        yield* readRunEvents(store, hub, runId, options, live)
      },
    }
  }

  /** Every event committed from this call on, of every run (for dashboards). Subscribes at once. */
  events(options: FeedOptions = {}): AsyncIterableIterator<RunEvent> {
    return readAllEvents(this.#hub, options)
  }

  /** Resolves with the run's record once it has ended. */
  async waitForRun(runId: string): Promise<Run> {
    const active = this.#scheduler.get(runId)
    if (active !== undefined) {
      await active.done
      return this.getRun(runId)
    }
    const run = await this.getRun(runId)
    if (isTerminalStatus(run.status)) return run
    for await (const event of readRunEvents(this.#store, this.#hub, runId, { afterSeq: run.lastSeq }, this.#liveRuns)) void event
    return this.getRun(runId)
  }

  /** Answers a waiting run's request (taking over a run no live process holds); resolves once `run.input_received` is committed. */
  async submitInput(runId: string, input: InputOptions): Promise<void> {
    this.#assertOpen()
    const { content, approved, toolCallId: asked, orgId } = parseInputOptions(input)
    // A request the run mirrors from a child run is answered in the child.
    const target = await this.#children.inputTarget(runId, asked, orgId, () => this.getRun(runId, { orgId }))
    const { toolCallId } = target
    const action = { kind: 'input' as const, content, ...(approved === undefined ? {} : { approved }), ...(toolCallId === undefined ? {} : { toolCallId }) }
    await this.#control.control(target.runId, orgId, action)
  }

  /** Cancels a run in any non-terminal status (taking over a run no live process holds); resolves once `run.cancelled` is committed. */
  async cancelRun(runId: string, options: { reason?: string; orgId?: string } = {}): Promise<void> {
    this.#assertOpen()
    const reason = optionalString(options.reason, 'reason') ?? 'Cancelled'
    await this.#control.control(runId, options.orgId, { kind: 'cancel', reason })
    // Then its child runs, and theirs.
    await this.#children.cancelDescendants(runId, (childId) => this.#control.control(childId, undefined, { kind: 'cancel', reason }))
  }

  /**
   * Deletes finished runs (with their events) that ended before `finishedBefore`,
   * `batchSize` at a time, yielding to the event loop between batches. Returns how many.
   */
  prune(options: PruneOptions): Promise<number> {
    this.#assertOpen()
    return pruneFinishedRuns(this.#store, options)
  }

  /** Stops taking runs, interrupts executing ones (a durable store recovers them), waits for commits, closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#unwatch?.()
    this.#children.close()
    await this.#scheduler.close()
    await this.#passes.settled()
    await this.#toolsets.close()
    await this.#options.telemetry?.close?.()
    await this.#ownership.stop().catch((error: unknown) => this.#logger.error('hearth: could not remove the owner', error))
    await this.#store.close()
  }

  #cancelSessionRuns(sessionId: string, reason = 'The session was deleted'): Promise<void> {
    return this.#control.cancelSession(sessionId, reason)
  }

  readonly #liveRuns: LiveRuns = {
    isLive: (runId) => {
      const active = this.#scheduler.get(runId)
      return active !== undefined && !active.log.sealed
    },
    committed: (runId) => this.#scheduler.get(runId)?.log.held ?? this.#ended.get(runId),
  }

  #assertOpen(): void {
    if (this.#closed) throw new StateError('The runtime is closed')
  }

  /** Takes over the unfinished runs this runtime may execute (dead owners', and unowned ones). */
  async #recover(): Promise<void> {
    await this.#recoverPass()
    this.#scheduler.shared = this.#ownership.othersAlive
    // After every pass: requests other runtimes recorded for this runtime's runs, and sessions they freed.
    await this.#control.applyPending()
    this.#scheduler.retryBlocked()
  }

  #recoverPass(): Promise<void> {
    return recoverRuns({
      store: this.#store,
      hub: this.#hub,
      scheduler: this.#scheduler,
      ownership: this.#ownership,
      mode: this.#options.recovery ?? 'resume',
      resolve: (run) => ({ agent: this.#toolsets.extend(this.#agents.resolve(run.personaId)), route: resolveRoute(run.routeId, this.#routes, this.#providers) }),
      isClosed: () => this.#closed,
      logger: this.#logger,
    })
  }
}
