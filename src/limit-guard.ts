/**
 * Enforcing a run's limits in one stretch of the loop: the duration by a
 * timer over the execution time left (the stretch's signal aborts when it
 * runs out, which ends the stream and the tools), tokens and cost after each
 * model turn.
 */
import type { LoopContext } from './agent-loop.js'
import { limitExceeded } from './limits.js'
import { runFigures } from './run-figures.js'
import { executedMs } from './run-state.js'
import type { RunErrorInfo } from './store.js'

/** The limits of one stretch: `context` is the loop's, with a signal that also aborts when the duration runs out. */
export class LimitGuard {
  readonly context: LoopContext
  readonly #outer: AbortSignal
  readonly #controller: AbortController | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  /** The limit crossed, once one is. */
  exceeded: RunErrorInfo | undefined

  constructor(outer: LoopContext) {
    this.#outer = outer.signal
    const max = outer.limits?.maxDurationMs
    if (max === undefined) {
      this.context = outer
      this.#controller = undefined
      return
    }
    const controller = new AbortController()
    this.#controller = controller
    // The turns keep the scheduler's StretchWatch: their own controller (a timeout must not end the
    // stretch), aborted on cancel by the scheduler and on crossing by `#cross`.
    this.context = { ...outer, signal: controller.signal }
    if (outer.signal.aborted) controller.abort(outer.signal.reason)
    else outer.signal.addEventListener('abort', this.#onAbort, { once: true })
    const left = max - executedMs(outer.log.state, Date.now())
    if (left <= 0) this.#cross(max)
    else this.#timer = setTimeout(() => this.#cross(max), left)
  }

  /** True when the run itself was aborted (cancel, close), not by its limit. */
  get outerAborted(): boolean {
    return this.#outer.aborted
  }

  /** The token or cost limit the turn just completed crossed, if any. */
  afterTurn(): RunErrorInfo | undefined {
    const limits = this.context.limits
    if (limits === undefined || limits === null) return undefined
    const state = this.context.log.state
    const tokens = state.usage.inputTokens + state.usage.outputTokens
    if (limits.maxTotalTokens !== undefined && tokens > limits.maxTotalTokens) {
      return (this.exceeded = errorInfo(limitExceeded('maxTotalTokens', limits.maxTotalTokens, tokens)))
    }
    if (limits.maxCostUsd !== undefined) {
      const cost = runFigures(state, undefined, this.context.route, this.context.creditsPerUsd).totalCostUsd
      if (cost > limits.maxCostUsd) return (this.exceeded = errorInfo(limitExceeded('maxCostUsd', limits.maxCostUsd, cost)))
    }
    return undefined
  }

  /** Ends the timer. */
  stop(): void {
    clearTimeout(this.#timer)
    this.#outer.removeEventListener('abort', this.#onAbort)
  }

  readonly #onAbort = (): void => this.#controller?.abort(this.#outer.reason)

  #cross(max: number): void {
    const error = limitExceeded('maxDurationMs', max, Math.round(executedMs(this.context.log.state, Date.now())))
    this.exceeded = errorInfo(error)
    this.#controller?.abort(error)
    this.context.watch.abort(error)
  }
}

function errorInfo(error: ReturnType<typeof limitExceeded>): RunErrorInfo {
  return { code: error.code, message: error.message, details: error.details as RunErrorInfo['details'] & object }
}
