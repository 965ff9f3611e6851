/**
 * One model turn: the request, the stream read into events, and the
 * retries. A retryable failure is tried again up to the route's
 * `retry.maxAttempts`, each retry a committed `model.retry` whose
 * `discard_after_seq` voids the failed attempt's deltas; a stream that
 * stalls past the route's timeouts fails its attempt with `provider.timeout`.
 */
import { sleep } from './abortable.js'
import { backoffMs, retryableCodes } from './backoff.js'
import type { LoopContext } from './agent-loop.js'
import { fitContext } from './context-fit.js'
import { ProviderError, toErrorInfo } from './errors.js'
import type { EventDataMap } from './events.js'
import type { Message, ModelRequest, ReasoningBlock, ToolCall, Usage } from './model.js'
import type { ResolvedRoute } from './routes.js'
import { maxBacklog } from './run-log.js'
import { usageData } from './run-state.js'

function requestMessages(context: LoopContext): Message[] {
  const state = context.log.state
  let own = state.messages
  if (state.agentId !== undefined) {
    // Handed off: the run speaks as the agent it was handed to, whose instructions lead.
    const rest = own[0]?.role === 'system' ? own.slice(1) : own
    const { instructions } = context.agent
    own = instructions === '' ? rest : [{ role: 'system', content: instructions, createdAt: (own[0] as Message).createdAt }, ...rest]
  }
  // A copy: the provider may keep the request, and the run's list keeps growing.
  const history = context.history.messages
  if (history.length === 0) return own.slice()
  const first = own[0]
  return first?.role === 'system' ? [first, ...history, ...own.slice(1)] : [...history, ...own]
}

/**
 * One model turn, tried again on a retryable failure until the route's
 * `maxAttempts`, then on each of the run's route's `fallbacks`. Each retry
 * and each fallback is committed (`model.retry`, `model.fallback`) first, so
 * readers drop the failed attempt's deltas and a restart goes on where the
 * log says: the same route, the same attempt count.
 */
export async function modelTurn(context: LoopContext): Promise<void> {
  const { log } = context
  let compacted = false
  for (;;) {
    const route = servingRoute(context)
    const fitting = context.window.active ? fitContext(context, route) : undefined
    if (fitting !== undefined) await fitting
    const attempt = log.state.failedAttempts + 1
    const before = log.seq
    const failure = await streamTurn(context, route, attempt)
    if (failure === undefined) return
    // Read afresh: a timeout hands the run a new signal.
    if (context.signal.aborted || log.broken !== undefined) throw failure
    const info = toErrorInfo(failure)
    // Too long for the model after all (the estimate is only one): one compaction, then one more try.
    if (info.code === 'provider.context_length' && !compacted && context.history.runs.length > 0) {
      compacted = true
      log.append('model.retry', { attempt, delay_ms: 0, error: info, discard_after_seq: before })
      await fitContext(context, route, true)
      await log.flush()
      continue
    }
    if (retryableCodes.has(info.code) && attempt < route.retry.maxAttempts) {
      const delay = backoffMs(route.retry, attempt, (failure as ProviderError).retryAfterMs)
      log.append('model.retry', { attempt, delay_ms: delay, error: info, discard_after_seq: before })
      await log.flush()
      await sleep(delay, context.signal)
      continue
    }
    // A route that failed the turn with a provider error hands it to the next of the run's fallbacks.
    const fallbacks = context.route.fallbacks
    const next = fallbacks[route.id === context.route.id ? 0 : fallbacks.indexOf(route.id) + 1]
    if (next === undefined || !(failure instanceof ProviderError)) throw failure
    log.append('model.fallback', { from_route_id: route.id, to_route_id: next, error: info, discard_after_seq: log.state.stepSeq })
    await log.flush()
  }
}

/** The route the current turn is on: the run's own, or the fallback a `model.fallback` moved it to. */
function servingRoute(context: LoopContext): ResolvedRoute {
  const id = context.log.state.turnRouteId
  return id === undefined || id === context.route.id ? context.route : context.route.resolve(id)
}

/**
 * Streams one attempt at the turn into events, under the route's stream
 * timeouts. Resolves with the attempt's failure (a stalled stream's
 * `provider.timeout`), or undefined once the turn is complete or the run
 * aborted.
 */
async function streamTurn(context: LoopContext, route: ResolvedRoute, attempt: number): Promise<unknown> {
  const { log, agent } = context
  const watch = context.watch
  const signal = watch.beginTurn(context, route).signal
  const request: ModelRequest = { model: route.model, messages: requestMessages(context), tools: agent.toolSpecs as ModelRequest['tools'] }
  if (agent.responseFormat !== undefined) request.responseFormat = agent.responseFormat
  const calls: ToolCall[] = []
  let blocks: ReasoningBlock[] | undefined
  let usage: Usage | undefined
  const requestedAt = Date.now()
  let firstChunkAt: number | undefined
  try {
    for await (const chunk of route.provider.stream(request, { signal, attempt })) {
      if (signal.aborted) break
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
        case 'reasoning-block':
          ;(blocks ??= []).push(chunk.block)
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
  } catch (error) {
    return watch.timedOut !== undefined && !context.signal.aborted ? watch.timedOut : error
  } finally {
    watch.endTurn()
  }
  // A provider may end its stream quietly when aborted: a timeout still fails the attempt.
  if (watch.timedOut !== undefined && !context.signal.aborted) return watch.timedOut
  if (signal.aborted) return undefined
  const state = log.state
  const data: EventDataMap['message.completed'] = {
    role: 'assistant',
    content: state.partialText,
    tool_calls: calls,
    usage: usageData(usage ?? { inputTokens: 0, outputTokens: 0 }),
    time_to_first_chunk_ms: firstChunkAt === undefined ? null : firstChunkAt - requestedAt,
    route_id: route.id,
    model: route.model,
  }
  if (state.partialReasoning !== '') data.reasoning_content = state.partialReasoning
  if (blocks !== undefined) data.reasoning_blocks = blocks
  if (usage !== undefined) context.window.reported(usage.inputTokens)
  log.append('message.completed', data)
  return undefined
}
