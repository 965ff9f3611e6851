/**
 * The agent loop: model -> tools -> model, as events. It has no I/O of its
 * own: it streams from the route's ModelProvider, calls tools, and appends
 * what happens to the run's RunLog, which folds each event into the run state.
 * Because the loop reads only that state, it continues a run from any step:
 * fresh, after input arrived, or after a crash.
 */
import { z } from 'zod'
import type { Agent } from './agents.js'
import { toErrorInfo, type ErrorCode } from './errors.js'
import type { Json, JsonObject } from './events.js'
import type { ContextWindow, History } from './context-window.js'
import type { Message } from './model.js'
import { modelTurn } from './model-turn.js'
import type { ResolvedRoute } from './routes.js'
import { runFigures } from './run-figures.js'
import type { RunLog } from './run-log.js'
import { metricsData, usageData, type RunState } from './run-state.js'
import { agentToolTarget } from './agent-tools.js'
import { broadcastCalls, type TeamSpec } from './teams.js'
import { LimitGuard } from './limit-guard.js'
import type { RunErrorInfo, RunLimits, RunPatch, RunStatus } from './store.js'
import type { StretchWatch } from './stretch-watch.js'
import { runToolPhase, type ChildCalls } from './tool-phase.js'
import type { Logger } from './logger.js'
import type { UserMemories } from './memory-api.js'
import { abandonPendingMemory, type MemoryTask } from './memory-extraction.js'

/** What the loop needs to run one run. */
export interface LoopContext {
  log: RunLog
  agent: Agent
  route: ResolvedRoute
  /** What the model is sent of the session's earlier runs; replaced when the window makes it give way. */
  history: History
  /** Fits each turn's request into its route's window. */
  window: ContextWindow
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
  /** The run's limits (`Run.limits`). @default none */
  limits?: RunLimits | null
  /** The stretch's turn controller and deadlines, aborted by whoever aborts the stretch. */
  watch: StretchWatch
  /** Runs agent-tool calls as child runs. @default none: such a call gets an error result */
  children?: ChildCalls
  /** Set by a stretch that ends waiting on a timer (a workflow's sleep): when to wake the run (ms). */
  wakeAt?: number
  /** The run's user (its session's) and their memories, for tools (`ctx.userId`, `ctx.memories`). @default none */
  user?: RunUser
  /** The run's memory extraction in this process, when one is under way (`memory: 'auto'`). */
  memory?: MemoryTask
}

/** The user a run acts for: its session's, with their memories when the store keeps them. */
export interface RunUser {
  userId: string | null
  memories: UserMemories | undefined
}

/** How a stretch of the loop ended: `children` when it waits on child runs (and perhaps input too), `handoff` when the run goes on as another agent. */
export type LoopOutcome = 'finished' | 'waiting' | 'children' | 'handoff' | 'aborted'

/** The patch that ends a run, with its figures. */
export function finalPatch(
  state: RunState,
  status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>,
  content: string,
  route: ResolvedRoute,
  creditsPerUsd: number,
  nowMs: number,
  error: RunErrorInfo | null = null,
): RunPatch {
  const at = new Date(nowMs).toISOString()
  return {
    status,
    content,
    reasoningContent: state.reasoning.length > 0 ? state.reasoning.join('\n\n') : state.partialReasoning || null,
    messages: state.messages,
    ...runFigures(state, nowMs, route, creditsPerUsd),
    error,
    pendingInput: [],
    ...(status === 'completed' ? { completedAt: at } : status === 'failed' ? { failedAt: at } : { cancelledAt: at }),
  }
}

/** Appends `run.failed` with its patch. */
export function failRun(context: Pick<LoopContext, 'log' | 'route' | 'creditsPerUsd'>, error: RunErrorInfo, content = context.log.state.partialText): void {
  const { log } = context
  if (log.sealed) return
  abandonPendingMemory(log, 'The run failed before its memory extraction ended')
  const now = Date.now()
  const patch = finalPatch(log.state, 'failed', content, context.route, context.creditsPerUsd, now, error)
  if (log.append('run.failed', { error }, now) !== undefined) log.patch(patch)
}

/** Appends `run.completed` with its patch; `output` is the parsed answer of an agent with an output schema. */
export function completeRun(context: Pick<LoopContext, 'log' | 'route' | 'creditsPerUsd'>, content: string, output: Json | undefined): void {
  const { log } = context
  const now = Date.now()
  const patch = finalPatch(log.state, 'completed', content, context.route, context.creditsPerUsd, now)
  if (output !== undefined) patch.output = output
  const metrics = patch.metrics as NonNullable<RunPatch['metrics']>
  if (log.append('run.completed', { content, metrics: metricsData(metrics) }, now) !== undefined) log.patch(patch)
}

/** The run's final answer: its text, or for an output schema the validated value as JSON text and as JSON (`output`). */
function finalContent(context: LoopContext): { content: string; output?: Json } | { error: { code: ErrorCode; message: string } } {
  const state = context.log.state
  if (state.stopContent !== undefined) return { content: state.stopContent }
  // The loop ends on a final turn: the last message is the model's answer.
  const text = (state.messages[state.messages.length - 1] as Message).content
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
export function runAgentLoop(outer: LoopContext): Promise<LoopOutcome> {
  if (outer.limits === undefined || outer.limits === null) return loop(outer, unlimited)
  const guard = new LimitGuard(outer)
  return loop(guard.context, guard).finally(() => guard.stop())
}

/** The guard of a run without limits: nothing to watch. */
const unlimited = { exceeded: undefined, outerAborted: false, afterTurn: () => undefined, stop: () => {} } as unknown as LimitGuard

/** The text a run that crossed a limit keeps: the turn streaming, else the last answer. */
function partialContent(state: RunState): string {
  if (state.partialText !== '') return state.partialText
  const last = state.messages[state.messages.length - 1]
  return last?.role === 'assistant' ? last.content : ''
}

async function loop(context: LoopContext, guard: LimitGuard): Promise<LoopOutcome> {
  const { log } = context
  const state = log.state
  const exceeded = async (error: RunErrorInfo): Promise<LoopOutcome> => {
    failRun(context, error, partialContent(state))
    await log.flush()
    return 'finished'
  }
  try {
    for (;;) {
      // `context.signal`, read afresh: a stream's timeout hands the run a new one. A run that
      // crossed its duration limit before this stretch (a recovered one) has it aborted already.
      if (context.signal.aborted) return guard.exceeded !== undefined && !guard.outerAborted ? await exceeded(guard.exceeded) : 'aborted'
      const phase = state.toolPhase
      if (phase !== undefined) {
        const next = await runToolPhase(context, phase)
        if (next !== 'continue') return next
        continue
      }
      if (state.stopContent !== undefined || (state.turns > 0 && isFinalTurn(state))) {
        // The extraction runs alongside; its end commits before run.completed (bounded by its timeout).
        if (state.memory === 'pending' && context.memory !== undefined) {
          await context.memory.settled
          if (context.signal.aborted) continue
        }
        const result = finalContent(context)
        if ('error' in result) failRun(context, result.error)
        else completeRun(context, result.content, result.output)
        await log.flush()
        return 'finished'
      }
      // Handed off: the next stretch goes on as the agent the run was handed to.
      if (state.agentId !== undefined && state.agentId !== context.agent.id) return 'handoff'
      if (state.turns >= context.agent.maxTurns) {
        failRun(context, { code: 'run.max_turns', message: `The run reached its limit of ${context.agent.maxTurns} model turns` })
        await log.flush()
        return 'finished'
      }
      // A broadcast team's first turn is the runtime's: every member gets the input.
      if (state.turns === 0 && context.agent.team?.mode === 'broadcast') {
        appendBroadcast(context)
        continue
      }
      await modelTurn(context)
      const crossed = guard.afterTurn()
      if (crossed !== undefined) return await exceeded(crossed)
    }
  } catch (error) {
    // The limit's own abort ends the stream and the tools; the run fails with it, partial content kept.
    if (guard.exceeded !== undefined && !guard.outerAborted) return await exceeded(guard.exceeded)
    if (context.signal.aborted) return 'aborted'
    if (log.broken !== undefined) throw log.broken
    const info = toErrorInfo(error)
    if (info.code === 'internal.error') context.logger.error(`hearth: run ${log.runId} failed with an unexpected error`, error)
    failRun(context, info)
    await log.flush()
    return 'finished'
  }
}

/** The first turn of a broadcast team: a call of every member's tool with the run's input, as the model's turn would be. */
function appendBroadcast(context: LoopContext): void {
  const { agent, log } = context
  const spec = agent.team as TeamSpec
  const byMember = new Map<string, string>()
  for (const definition of agent.tools.values()) {
    const target = agentToolTarget(definition)
    if (target !== undefined) byMember.set(target.reference, definition.name)
  }
  const input = [...log.state.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
  const calls = broadcastCalls(spec, spec.members.map((member) => byMember.get(member) as string), input)
  log.append('message.completed', { role: 'assistant', content: '', tool_calls: calls, usage: usageData({ inputTokens: 0, outputTokens: 0 }), time_to_first_chunk_ms: null, route_id: context.route.id, model: context.route.model })
}

/** True when the latest assistant message asked for no tools. */
function isFinalTurn(state: RunState): boolean {
  const last = state.messages[state.messages.length - 1]
  // A turn's tool calls are on its message only when it made some.
  return last?.role === 'assistant' && last.toolCalls === undefined
}
