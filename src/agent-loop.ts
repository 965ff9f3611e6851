/**
 * The agent loop: model -> tools -> model, as events. It has no I/O of its
 * own: it streams from the route's ModelProvider, calls tools, and appends
 * what happens to the run's RunLog, which folds each event into the run state.
 * Because the loop reads only that state, it continues a run from any step:
 * fresh, after input arrived, or after a crash.
 */
import { z } from 'zod'
import type { Agent } from './agents.js'
import { ProviderError, toErrorInfo, ToolError, type ErrorCode } from './errors.js'
import type { EventDataMap, InputRequest, Json, JsonObject } from './events.js'
import type { Message, ModelRequest, ToolCall, Usage } from './model.js'
import { costOf, type ResolvedRetry, type ResolvedRoute } from './routes.js'
import { maxBacklog, type RunLog } from './run-log.js'
import { metricsData, metricsOf, openRequests, usageData, type RunState, type ToolPhase } from './run-state.js'
import type { RunPatch, RunStatus } from './store.js'
import type { Tool } from './tools.js'
import type { Logger } from './logger.js'

/** What the loop needs to run one run. */
export interface LoopContext {
  log: RunLog
  agent: Agent
  route: ResolvedRoute
  /** Messages of the session's earlier runs, marked `fromHistory`. */
  history: Message[]
  /** Aborts on cancel and on close. */
  signal: AbortSignal
  /** The session's state, which tools may change. */
  sessionState: JsonObject
  /** Tool calls of one turn executed at once. */
  toolConcurrency: number
  creditsPerUsd: number
  /** Where a bug inside the loop is reported. */
  logger: Logger
  /** Arguments already validated in this process, by tool call id (a resumed run validates again). */
  parsedArguments?: Map<string, unknown>
}

/** How a stretch of the loop ended. */
export type LoopOutcome = 'finished' | 'waiting' | 'aborted'

/** The patch that ends a run, with its figures. */
export function finalPatch(
  state: RunState,
  status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>,
  content: string,
  route: Pick<ResolvedRoute, 'pricing'>,
  creditsPerUsd: number,
  nowMs: number,
  error: { code: ErrorCode; message: string } | null = null,
): RunPatch {
  const metrics = metricsOf(state, nowMs)
  const at = new Date(nowMs).toISOString()
  return {
    status,
    content,
    reasoningContent: state.reasoning.length > 0 ? state.reasoning.join('\n\n') : state.partialReasoning || null,
    messages: state.messages,
    metrics,
    ...costOf(metrics, route.pricing, creditsPerUsd),
    error,
    pendingInput: [],
    ...(status === 'completed' ? { completedAt: at } : status === 'failed' ? { failedAt: at } : { cancelledAt: at }),
  }
}

/** Appends `run.failed` with its patch. */
export function failRun(context: Pick<LoopContext, 'log' | 'route' | 'creditsPerUsd'>, error: { code: ErrorCode; message: string }): void {
  const { log } = context
  if (log.sealed) return
  const now = Date.now()
  const patch = finalPatch(log.state, 'failed', log.state.partialText, context.route, context.creditsPerUsd, now, error)
  if (log.append('run.failed', { error }, now) !== undefined) log.patch(patch)
}

/** Appends `run.completed` with its patch; `output` is the parsed answer of an agent with an output schema. */
function complete(context: LoopContext, content: string, output: Json | undefined): void {
  const { log } = context
  const now = Date.now()
  const patch = finalPatch(log.state, 'completed', content, context.route, context.creditsPerUsd, now)
  if (output !== undefined) patch.output = output
  const metrics = patch.metrics as NonNullable<RunPatch['metrics']>
  if (log.append('run.completed', { content, metrics: metricsData(metrics) }, now) !== undefined) log.patch(patch)
}

function requestMessages(context: LoopContext): Message[] {
  const own = context.log.state.messages
  // A copy: the provider may keep the request, and the run's list keeps growing.
  if (context.history.length === 0) return own.slice()
  const first = own[0]
  return first?.role === 'system' ? [first, ...context.history, ...own.slice(1)] : [...context.history, ...own]
}

/** Codes on which a model turn is tried again: the provider may well answer the next time. */
export const retryableCodes: ReadonlySet<ErrorCode> = new Set(['provider.unavailable', 'provider.rate_limited', 'provider.timeout', 'provider.bad_response'])

/**
 * The wait after failed attempt `attempt` (from 1): a random time up to
 * `baseDelayMs * 2^(attempt - 1)` (full jitter), at most `maxDelayMs`; a
 * provider's `Retry-After` is waited instead, also at most `maxDelayMs`.
 */
export function backoffMs(retry: ResolvedRetry, attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, retry.maxDelayMs)
  return Math.round(random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)))
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return abortable(new Promise<void>((resolve) => setTimeout(resolve, ms)), signal)
}

/**
 * One model turn, tried again on a retryable failure until the route's
 * `maxAttempts`. Each retry is committed (`model.retry`) before its wait, so
 * readers drop the failed attempt's deltas and a restart continues the count.
 */
async function modelTurn(context: LoopContext): Promise<void> {
  const { log, route, signal } = context
  for (;;) {
    const attempt = log.state.failedAttempts + 1
    const before = log.seq
    try {
      await streamTurn(context, attempt)
      return
    } catch (error) {
      if (signal.aborted || log.broken !== undefined) throw error
      const info = toErrorInfo(error)
      if (!retryableCodes.has(info.code) || attempt >= route.retry.maxAttempts) throw error
      const delay = backoffMs(route.retry, attempt, (error as ProviderError).retryAfterMs)
      log.append('model.retry', { attempt, delay_ms: delay, error: info, discard_after_seq: before })
      await log.flush()
      await sleep(delay, signal)
    }
  }
}

/**
 * Watches a stream for the route's first-chunk and idle timeouts: `signal`
 * aborts (with the `provider.timeout` as its reason) when one passes.
 * `chunk()` marks the arrival of a chunk; `stop()` ends the watch.
 */
class StreamWatch {
  readonly #controller = new AbortController()
  readonly #route: ResolvedRoute
  readonly #outer: AbortSignal
  #timer: ReturnType<typeof setTimeout> | undefined
  #lastAt = Date.now()
  #started = false
  /** The timeout that aborted the stream, if one did. */
  timedOut: ProviderError | undefined

  constructor(route: ResolvedRoute, outer: AbortSignal) {
    this.#route = route
    this.#outer = outer
    outer.addEventListener('abort', this.#onAbort, { once: true })
    if (route.firstChunkTimeoutMs > 0) this.#timer = setTimeout(this.#check, route.firstChunkTimeoutMs)
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  chunk(): void {
    this.#lastAt = Date.now()
    if (this.#started) return
    this.#started = true
    clearTimeout(this.#timer)
    this.#timer = this.#route.idleTimeoutMs > 0 ? setTimeout(this.#check, this.#route.idleTimeoutMs) : undefined
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#outer.removeEventListener('abort', this.#onAbort)
  }

  readonly #onAbort = (): void => this.#controller.abort(this.#outer.reason)

  readonly #check = (): void => {
    const limit = this.#started ? this.#route.idleTimeoutMs : this.#route.firstChunkTimeoutMs
    const left = this.#lastAt + limit - Date.now()
    if (left > 0) {
      this.#timer = setTimeout(this.#check, left)
      return
    }
    const what = this.#started ? `sent nothing for ${limit} ms mid-stream` : `sent no first chunk within ${limit} ms`
    this.timedOut = new ProviderError('provider.timeout', `The provider did not answer in time: it ${what}`)
    this.#controller.abort(this.timedOut)
  }
}

async function streamTurn(context: LoopContext, attempt: number): Promise<void> {
  const watch = new StreamWatch(context.route, context.signal)
  try {
    await readTurn(context, attempt, watch)
  } catch (error) {
    throw watch.timedOut !== undefined && !context.signal.aborted ? watch.timedOut : error
  } finally {
    watch.stop()
  }
  // A provider may end its stream quietly when aborted: a timeout still fails the attempt.
  if (watch.timedOut !== undefined && !context.signal.aborted) throw watch.timedOut
}

async function readTurn(context: LoopContext, attempt: number, watch: StreamWatch): Promise<void> {
  const { log, agent, route } = context
  const request: ModelRequest = { model: route.model, messages: requestMessages(context), tools: agent.toolSpecs as ModelRequest['tools'] }
  if (agent.responseFormat !== undefined) request.responseFormat = agent.responseFormat
  const calls: ToolCall[] = []
  let usage: Usage | undefined
  const requestedAt = Date.now()
  let firstChunkAt: number | undefined
  for await (const chunk of route.provider.stream(request, { signal: watch.signal, attempt })) {
    if (watch.signal.aborted) return
    watch.chunk()
    switch (chunk.type) {
      case 'text-delta':
        if (chunk.text === '') break
        firstChunkAt ??= Date.now()
        log.append('message.delta', { content: chunk.text, channel: 'text' })
        break
      case 'reasoning-delta':
        if (chunk.text === '') break
        firstChunkAt ??= Date.now()
        log.append('message.delta', { content: chunk.text, channel: 'reasoning' })
        break
      case 'tool-call':
        firstChunkAt ??= Date.now()
        calls.push({ id: chunk.id, name: chunk.name, arguments: chunk.arguments })
        break
      case 'usage':
        usage = chunk
        break
      case 'finish':
        break
    }
    if (log.backlog >= maxBacklog) await log.flush()
  }
  if (watch.signal.aborted) return
  const state = log.state
  const data: EventDataMap['message.completed'] = {
    role: 'assistant',
    content: state.partialText,
    tool_calls: calls,
    usage: usageData(usage ?? { inputTokens: 0, outputTokens: 0 }),
    time_to_first_chunk_ms: firstChunkAt === undefined ? null : firstChunkAt - requestedAt,
  }
  if (state.partialReasoning !== '') data.reasoning_content = state.partialReasoning
  log.append('message.completed', data)
}

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
  const parsed = definition.input.safeParse(args)
  if (!parsed.success) return { args, problem: `Invalid arguments for ${call.name}: ${z.prettifyError(parsed.error)}` }
  return { args, data: parsed.data }
}

function toJson(value: unknown): Json {
  if (value === undefined) return null
  if (typeof value === 'string') return value
  return JSON.parse(JSON.stringify(value)) as Json
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/**
 * Runs one call of a tool under its `timeoutMs`: its signal aborts on the
 * run's abort and when the time is up, and the call then rejects with
 * `tool.timeout` (a late result is dropped).
 */
async function executeOnce(context: LoopContext, definition: Tool, call: ToolCall, args: unknown): Promise<unknown> {
  const { log, signal } = context
  const controller = new AbortController()
  const onAbort = (): void => controller.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  const timer =
    definition.timeoutMs > 0
      ? setTimeout(() => controller.abort(new ToolError('tool.timeout', `${call.name} did not finish within ${definition.timeoutMs} ms`)), definition.timeoutMs)
      : undefined
  try {
    const toolContext = { signal: controller.signal, runId: log.runId, sessionId: log.sessionId, toolCallId: call.id, state: context.sessionState }
    return await abortable(Promise.resolve().then(() => definition.execute(args as never, toolContext)), controller.signal)
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}

async function executeCall(context: LoopContext, phase: ToolPhase, call: ToolCall): Promise<void> {
  const { log, signal } = context
  const definition = context.agent.tools.get(call.name) as Tool
  const known = context.parsedArguments?.get(call.id)
  const parsed = known === undefined ? definition.input.safeParse(phase.announced.get(call.id)?.arguments ?? {}) : { success: true as const, data: known }
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
      const code = info.code.startsWith('tool.') ? info.code : 'tool.failed'
      const message = error instanceof Error ? error.message : String(error)
      log.append('tool.result', { tool_call_id: call.id, name: call.name, output: message, is_error: true, error_code: code })
      return
    }
  }
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
async function runToolPhase(context: LoopContext, phase: ToolPhase): Promise<'continue' | 'waiting'> {
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
  if (runnable.length > 0) await runBounded(runnable, context.toolConcurrency, (call) => executeCall(context, phase, call))
  if (context.signal.aborted) return 'continue'
  const stateAfter = JSON.stringify(context.sessionState)
  if (stateAfter !== stateBefore) log.setSessionState(JSON.parse(stateAfter) as JsonObject, new Date().toISOString())

  if (log.state.toolPhase === phase) {
    const unanswered = phase.calls.filter((call) => !phase.results.has(call.id) && !phase.answers.has(call.id))
    if (unanswered.length > 0) {
      if (openRequests(phase).length === 0) {
        const requests: InputRequest[] = unanswered.map((call) => ({
          kind: 'tool_confirmation',
          tool_call_id: call.id,
          tool: call.name,
          arguments: phase.announced.get(call.id)?.arguments ?? null,
          prompt: `Allow ${call.name} to run with these arguments?`,
        }))
        log.append('run.waiting_for_input', { requests })
        // The record of a waiting run shows the tokens and cost of its completed turns; duration once it ends.
        const metrics = metricsOf(log.state, undefined)
        log.patch({ status: 'waiting_for_input', pendingInput: requests, content: null, metrics, ...costOf(metrics, context.route.pricing, context.creditsPerUsd) })
      }
      await log.flush()
      return 'waiting'
    }
  }
  return 'continue'
}

/** The run's final answer: its text, or for an output schema the validated value as JSON text and as JSON (`output`). */
function finalContent(context: LoopContext): { content: string; output?: Json } | { error: { code: ErrorCode; message: string } } {
  const state = context.log.state
  if (state.stopContent !== undefined) return { content: state.stopContent }
  const last = state.messages[state.messages.length - 1]
  const text = last?.role === 'assistant' ? last.content : ''
  const schema = context.agent.outputSchema
  if (schema === undefined) return { content: text }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { error: { code: 'run.output_invalid', message: 'The final answer is not valid JSON' } }
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) return { error: { code: 'run.output_invalid', message: `The final answer does not match the output schema: ${z.prettifyError(parsed.error)}` } }
  const content = JSON.stringify(parsed.data)
  // The validated value in its JSON form, as a store keeps it: a transform to a Date comes back as its string.
  return { content, output: content === undefined ? null : (JSON.parse(content) as Json) }
}

/**
 * Runs the loop from wherever the run's state stands until it finishes, waits
 * for input, or is aborted. Terminal events are committed before it returns.
 */
export async function runAgentLoop(context: LoopContext): Promise<LoopOutcome> {
  const { log, signal } = context
  const state = log.state
  try {
    for (;;) {
      if (signal.aborted) return 'aborted'
      const phase = state.toolPhase
      if (phase !== undefined) {
        if ((await runToolPhase(context, phase)) === 'waiting') return 'waiting'
        continue
      }
      if (state.stopContent !== undefined || (state.turns > 0 && isFinalTurn(state))) {
        const result = finalContent(context)
        if ('error' in result) failRun(context, result.error)
        else complete(context, result.content, result.output)
        await log.flush()
        return 'finished'
      }
      if (state.turns >= context.agent.maxTurns) {
        failRun(context, { code: 'run.max_turns', message: `The run reached its limit of ${context.agent.maxTurns} model turns` })
        await log.flush()
        return 'finished'
      }
      await modelTurn(context)
    }
  } catch (error) {
    if (signal.aborted) return 'aborted'
    if (log.broken !== undefined) throw log.broken
    const info = toErrorInfo(error)
    if (info.code === 'internal.error') context.logger.error(`hearth: run ${log.runId} failed with an unexpected error`, error)
    failRun(context, info)
    await log.flush()
    return 'finished'
  }
}

/** True when the latest assistant message asked for no tools. */
function isFinalTurn(state: RunState): boolean {
  const last = state.messages[state.messages.length - 1]
  return last?.role === 'assistant' && (last.toolCalls === undefined || last.toolCalls.length === 0)
}
