/**
 * The tool calls of a turn: announced (`tool.call`, committed before any
 * side effect), validated, executed in parallel under each tool's timeout
 * (idempotent tools retried), or waiting for a person's confirmation.
 */
import { z } from 'zod'
import type { LoopContext, RunUser } from './agent-loop.js'
import type { UserMemories } from './memory-api.js'
import { toErrorInfo, ToolError, type ErrorCode } from './errors.js'
import type { Run } from './store.js'
import type { EventDataMap, InputRequest, Json, JsonObject } from './events.js'
import type { ToolCall } from './model.js'
import { runFigures } from './run-figures.js'
import { openRequests, ownOpenRequests, type ToolPhase } from './run-state.js'
import type { WatchedCall } from './stretch-watch.js'
import type { Tool } from './tools.js'
import { agentToolTarget, type AgentToolTarget } from './agent-tools.js'
import { handoffTarget } from './handoffs.js'

function needsConfirmation(definition: Tool, args: unknown): boolean {
  const rule = definition.needsConfirmation
  return typeof rule === 'function' ? rule(args) === true : rule
}

/** Validates one call's arguments: the parsed JSON, or why it is unusable. */
function checkArguments(definition: Tool | undefined, call: ToolCall): { args: Json; data?: unknown; problem?: string } {
  if (definition === undefined) return { args: call.arguments, problem: `Unknown tool "${call.name}"` }
  let args: Json
  try {
    args = call.arguments.trim() === '' ? {} : (JSON.parse(call.arguments) as Json)
  } catch {
    return { args: call.arguments, problem: `The arguments of ${call.name} are not valid JSON` }
  }
  const parsed = z.safeParse(definition.input, args)
  if (!parsed.success) return { args, problem: `Invalid arguments for ${call.name}: ${z.prettifyError(parsed.error)}` }
  return { args, data: parsed.data }
}

function toJson(value: unknown): Json {
  if (value === undefined) return null
  if (typeof value === 'string') return value
  return JSON.parse(JSON.stringify(value)) as Json
}


/** The user of a run with none (or whose session was not read: its agent has no tools). */
const noUser: RunUser = { userId: null, memories: undefined }

/**
 * The context a tool call gets. Its `signal` is made when the tool first
 * reads it (most never do): it aborts with the run and on the call's timeout.
 */
class ToolCallContext {
  readonly runId: string
  readonly sessionId: string
  readonly toolCallId: string
  readonly state: JsonObject
  readonly #run: AbortSignal
  readonly #user: RunUser
  #controller: AbortController | undefined

  constructor(run: AbortSignal, runId: string, sessionId: string, toolCallId: string, state: JsonObject, user: RunUser) {
    this.#run = run
    this.runId = runId
    this.sessionId = sessionId
    this.toolCallId = toolCallId
    this.state = state
    this.#user = user
  }

  get userId(): string | null {
    return this.#user.userId
  }

  get memories(): UserMemories | undefined {
    return this.#user.memories
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#run.aborted) this.#controller.abort(this.#run.reason)
    }
    return this.#controller.signal
  }

  /** Aborts the call's signal, if the tool made one. */
  abort(reason: unknown): void {
    this.#controller?.abort(reason)
  }
}

/**
 * One call of a tool, watched by the stretch under its `timeoutMs`: settles
 * with the tool's result, or rejects with `tool.timeout` when the time is up
 * or with the run's abort reason when the run aborts (the call's signal
 * aborts with it, and a late result is dropped).
 */
class RunningCall implements WatchedCall {
  readonly at: number
  readonly promise: Promise<unknown>
  readonly #name: string
  readonly #timeoutMs: number
  readonly #tool: ToolCallContext
  #resolve!: (value: unknown) => void
  #reject!: (error: unknown) => void

  constructor(context: LoopContext, definition: Tool, call: ToolCall, args: unknown) {
    const { log, watch } = context
    this.#name = call.name
    this.#timeoutMs = definition.timeoutMs
    this.at = this.#timeoutMs > 0 ? Date.now() + this.#timeoutMs : Number.POSITIVE_INFINITY
    const tool = (this.#tool = new ToolCallContext(context.signal, log.runId, log.sessionId, call.id, context.sessionState, context.user ?? noUser))
    this.promise = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    watch.beginCall(this, this.#timeoutMs)
    Promise.resolve()
      .then(() => definition.execute(args as never, tool))
      .then(
        (value) => {
          watch.endCall(this)
          this.#resolve(value)
        },
        (error: unknown) => {
          watch.endCall(this)
          this.#reject(error)
        },
      )
  }

  timedOut(): void {
    const error = new ToolError('tool.timeout', `${this.#name} did not finish within ${this.#timeoutMs} ms`)
    this.#tool.abort(error)
    this.#reject(error)
  }

  aborted(reason: unknown): void {
    this.#tool.abort(reason)
    this.#reject(reason)
  }
}

function executeOnce(context: LoopContext, definition: Tool, call: ToolCall, args: unknown): Promise<unknown> {
  const { signal } = context
  if (signal.aborted) return Promise.reject(signal.reason)
  return new RunningCall(context, definition, call, args).promise
}

async function executeCall(context: LoopContext, phase: ToolPhase, call: ToolCall): Promise<void> {
  const { log, signal } = context
  const definition = context.agent.tools.get(call.name) as Tool
  const known = context.parsedArguments?.get(call.id)
  const parsed = known === undefined ? z.safeParse(definition.input, phase.announced.get(call.id)?.arguments ?? {}) : { success: true as const, data: known }
  // An idempotent tool may be run again after it threw or timed out; any other runs once.
  const attempts = 1 + definition.retries
  for (let attempt = 1; ; attempt++) {
    try {
      if (!parsed.success) throw new Error(z.prettifyError(parsed.error))
      const output = await executeOnce(context, definition, call, parsed.data)
      const data: EventDataMap['tool.result'] = { tool_call_id: call.id, name: call.name, output: toJson(output), is_error: false }
      if (definition.stopAfterCall) data.stop_after_call = true
      log.append('tool.result', data)
      return
    } catch (error) {
      if (signal.aborted) return
      if (parsed.success && attempt < attempts) continue
      const info = toErrorInfo(error)
      // A tool's own code (tool.*, or an MCP server's mcp.*) goes to the model; anything else is tool.failed.
      const code = info.code.startsWith('tool.') || info.code.startsWith('mcp.') ? info.code : 'tool.failed'
      const message = error instanceof Error ? error.message : String(error)
      log.append('tool.result', { tool_call_id: call.id, name: call.name, output: message, is_error: true, error_code: code })
      return
    }
  }
}

/** Runs agent-tool calls as child runs: the runtime's ChildRuns, for one run. */
export interface ChildCalls {
  /** Starts the call's child run, or records its end once it ended; leaves the call open while the child runs. */
  run(call: ToolCall, input: string, target: AgentToolTarget, fresh: boolean): Promise<void>
  /** Hands the run over to agent `reference` (a `transfer_to_*` call): `agent.handoff` and the call's result, or an error result. */
  handoff(call: ToolCall, reference: string): void
  /** A workflow's child step: the child of `callId`, started when there is none; its record once it ended, `'running'` while it runs, or why it could not start. */
  step(callId: string, reference: string, input: string): Promise<Run | 'running' | { refused: { code: ErrorCode; message: string } }>
}

/** An agent-tool call: handed to the run's ChildCalls with its validated `input`. */
async function childCall(context: LoopContext, phase: ToolPhase, call: ToolCall, target: AgentToolTarget): Promise<void> {
  const known = context.parsedArguments?.get(call.id) as { input?: unknown } | undefined
  const input = (known ?? (phase.announced.get(call.id)?.arguments as { input?: unknown } | null | undefined))?.input
  if (context.children === undefined || typeof input !== 'string') {
    const output = context.children === undefined ? `${call.name} starts a child run, which this runtime does not run here` : `Invalid arguments for ${call.name}: expected { input: string }`
    context.log.append('tool.result', { tool_call_id: call.id, name: call.name, output, is_error: true, error_code: 'tool.failed' })
    return
  }
  // Announced in this stretch (its arguments checked here): no child of it can exist yet.
  await context.children.run(call, input, target, known !== undefined)
}

async function runBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  if (items.length === 1) return task(items[0] as T)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** Runs the open tool calls: announce, validate, execute, or ask for confirmation. */
export async function runToolPhase(context: LoopContext, phase: ToolPhase): Promise<'continue' | 'waiting' | 'children'> {
  const { log, agent } = context
  for (const call of phase.calls) {
    if (phase.announced.has(call.id)) continue
    const definition = agent.tools.get(call.name)
    const { args, data, problem } = checkArguments(definition, call)
    const requiresConfirmation = problem === undefined && needsConfirmation(definition as Tool, data)
    if (data !== undefined) (context.parsedArguments ??= new Map()).set(call.id, data)
    log.append('tool.call', { tool_call_id: call.id, name: call.name, arguments: args, requires_confirmation: requiresConfirmation })
    if (problem !== undefined) {
      log.append('tool.result', { tool_call_id: call.id, name: call.name, output: problem, is_error: true, error_code: 'tool.invalid_arguments' })
    }
  }
  // A tool's side effects must never precede its committed `tool.call`.
  await log.flush()
  if (log.state.toolPhase !== phase) return 'continue'

  const runnable: ToolCall[] = []
  for (const call of phase.calls) {
    if (phase.results.has(call.id)) continue
    const answer = phase.answers.get(call.id)
    if (answer !== undefined && !answer.approved) {
      const reason = answer.content.trim() === '' ? 'The user denied this call.' : `The user denied this call: ${answer.content}`
      log.append('tool.result', { tool_call_id: call.id, name: call.name, output: reason, is_error: true, error_code: 'tool.denied' })
    } else if (answer !== undefined || phase.announced.get(call.id)?.requires_confirmation === false) {
      runnable.push(call)
    }
  }
  const stateBefore = JSON.stringify(context.sessionState)
  if (runnable.length > 0) {
    await runBounded(runnable, context.toolConcurrency, async (call) => {
      const definition = agent.tools.get(call.name)
      const target = agentToolTarget(definition)
      if (target !== undefined) return childCall(context, phase, call, target)
      const handoff = handoffTarget(definition)
      if (handoff === undefined) return executeCall(context, phase, call)
      if (context.children === undefined) {
        log.append('tool.result', { tool_call_id: call.id, name: call.name, output: `${call.name} hands the run over, which this runtime does not do here`, is_error: true, error_code: 'tool.failed' })
      } else context.children.handoff(call, handoff)
    })
  }
  if (context.signal.aborted) return 'continue'
  const stateAfter = JSON.stringify(context.sessionState)
  if (stateAfter !== stateBefore) log.setSessionState(JSON.parse(stateAfter) as JsonObject, new Date().toISOString())

  if (log.state.toolPhase === phase) {
    // Calls waiting on their child runs are not the person's to answer.
    const unanswered = phase.calls.filter((call) => !phase.results.has(call.id) && !phase.answers.has(call.id) && !phase.children.has(call.id))
    const onChildren = phase.calls.some((call) => phase.children.has(call.id) && !phase.results.has(call.id))
    if (unanswered.length > 0 || onChildren) {
      if (unanswered.length > 0 && ownOpenRequests(phase).length === 0) {
        const requests: InputRequest[] = unanswered.map((call) => ({
          kind: 'tool_confirmation',
          tool_call_id: call.id,
          tool: call.name,
          arguments: phase.announced.get(call.id)?.arguments ?? null,
          prompt: `Allow ${call.name} to run with these arguments?`,
        }))
        // Its children's open requests (mirrored) stay open beside the run's own.
        const pending = [...openRequests(phase), ...requests]
        log.append('run.waiting_for_input', { requests: pending })
        // The record of a waiting run shows the tokens and cost of its completed turns; duration once it ends.
        log.patch({ status: 'waiting_for_input', pendingInput: pending, content: null, ...runFigures(log.state, undefined, context.route, context.creditsPerUsd) })
      }
      await log.flush()
      return onChildren ? 'children' : 'waiting'
    }
  }
  return 'continue'
}
