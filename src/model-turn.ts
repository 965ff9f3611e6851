/**
 * One model turn: the request, the stream read into events, and the
 * retries. A retryable failure is tried again up to the route's
 * `retry.maxAttempts`, each retry a committed `model.retry` whose
 * `discard_after_seq` voids the failed attempt's deltas; a stream that
 * stalls past the route's timeouts fails its attempt with `provider.timeout`.
 */
import { sleep } from './abortable.js'
import type { LoopContext } from './agent-loop.js'
import { ProviderError, toErrorInfo, type ErrorCode } from './errors.js'
import type { EventDataMap } from './events.js'
import type { Message, ModelRequest, ToolCall, Usage } from './model.js'
import type { ResolvedRetry, ResolvedRoute } from './routes.js'
import { maxBacklog } from './run-log.js'
import { usageData } from './run-state.js'

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


/**
 * One model turn, tried again on a retryable failure until the route's
 * `maxAttempts`, then on each of the run's route's `fallbacks`. Each retry
 * and each fallback is committed (`model.retry`, `model.fallback`) first, so
 * readers drop the failed attempt's deltas and a restart goes on where the
 * log says: the same route, the same attempt count.
 */
export async function modelTurn(context: LoopContext): Promise<void> {
  const { log, signal } = context
  for (;;) {
    const route = servingRoute(context)
    try {
      await attemptsOn(context, route)
      return
    } catch (error) {
      if (signal.aborted || log.broken !== undefined) throw error
      // A route that failed the turn with a provider error hands it to the next of the run's fallbacks.
      const fallbacks = context.route.fallbacks
      const next = fallbacks[route.id === context.route.id ? 0 : fallbacks.indexOf(route.id) + 1]
      if (next === undefined || !(error instanceof ProviderError)) throw error
      log.append('model.fallback', { from_route_id: route.id, to_route_id: next, error: toErrorInfo(error), discard_after_seq: log.state.stepSeq })
      await log.flush()
    }
  }
}

/** The route the current turn is on: the run's own, or the fallback a `model.fallback` moved it to. */
function servingRoute(context: LoopContext): ResolvedRoute {
  const id = context.log.state.turnRouteId
  return id === undefined || id === context.route.id ? context.route : context.route.resolve(id)
}

/** Attempts at the turn on `route`, each failure retried until its `maxAttempts`. */
async function attemptsOn(context: LoopContext, route: ResolvedRoute): Promise<void> {
  const { log, signal } = context
  for (;;) {
    const attempt = log.state.failedAttempts + 1
    const before = log.seq
    try {
      await streamTurn(context, route, attempt)
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

async function streamTurn(context: LoopContext, route: ResolvedRoute, attempt: number): Promise<void> {
  const watch = new StreamWatch(route, context.signal)
  try {
    await readTurn(context, route, attempt, watch)
  } catch (error) {
    throw watch.timedOut !== undefined && !context.signal.aborted ? watch.timedOut : error
  } finally {
    watch.stop()
  }
  // A provider may end its stream quietly when aborted: a timeout still fails the attempt.
  if (watch.timedOut !== undefined && !context.signal.aborted) throw watch.timedOut
}

async function readTurn(context: LoopContext, route: ResolvedRoute, attempt: number, watch: StreamWatch): Promise<void> {
  const { log, agent } = context
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
    route_id: route.id,
    model: route.model,
  }
  if (state.partialReasoning !== '') data.reasoning_content = state.partialReasoning
  log.append('message.completed', data)
}
