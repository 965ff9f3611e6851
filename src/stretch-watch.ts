/**
 * The watch over one stretch of the loop (from the scheduler's start of it
 * to its end): the controller its model turns stream under, the stream
 * timeouts of the turn streaming, and the timeouts and the abort of the tool
 * calls running. The whole stretch is one deadline on the shared timer of
 * `deadlines.ts`, and whoever aborts the stretch calls `abort(reason)`, so
 * neither a turn nor a tool call registers anything of its own: a deadline
 * and an abort listener per turn and per call measured 5 to 8% of the core
 * bench's tool runs.
 */
import { deadlines, type Deadline } from './deadlines.js'
import { ProviderError } from './errors.js'
import type { ResolvedRoute } from './routes.js'

/** A tool call the watch times out and aborts: it is told once, and then dropped from the watch. */
export interface WatchedCall {
  /** When the call times out (`Number.POSITIVE_INFINITY` for never). */
  at: number
  /** The call's time is up. */
  timedOut(): void
  /** The stretch was aborted with `reason`. */
  aborted(reason: unknown): void
}

/**
 * The stretch's signals and deadlines. With `run` given the turns stream
 * under the run's own controller, and a stream timeout hands the run a new
 * one before aborting the old, which only the stream still listens to (no
 * tool runs while a turn streams). Otherwise (a loop whose signal is a limit
 * guard's) the turns get a controller of their own, made by the first turn
 * and again after a timeout, aborted by `abort`.
 */
export class StretchWatch implements Deadline {
  /** When the shared timer looks next (the earliest deadline of the stream and the calls). */
  at = Number.POSITIVE_INFINITY
  /** The timeout that ended the current turn's stream, if one did. */
  timedOut: ProviderError | undefined
  #context: { signal: AbortSignal } | undefined
  readonly #run: { controller: AbortController } | undefined
  #own: AbortController | undefined
  #watched = false
  #windowMs = Number.POSITIVE_INFINITY
  // The turn streaming: its controller, route, chunk count, and the count the timer last saw.
  #stream: AbortController | undefined
  #route: ResolvedRoute | undefined
  #chunks = 0
  #seen = 0
  #streamAt = Number.POSITIVE_INFINITY
  readonly #calls: WatchedCall[] = []

  constructor(run?: { controller: AbortController }) {
    this.#run = run
  }

  /**
   * Starts watching a turn of the loop with `context` on `route`; returns the
   * controller it streams under (aborted already when the run is). A
   * timeout hands `context` the run's new signal.
   */
  beginTurn(context: { signal: AbortSignal }, route: ResolvedRoute): AbortController {
    this.#context = context
    const controller = this.#controller(context.signal)
    this.#stream = controller
    this.#route = route
    this.#chunks = 0
    this.#seen = 0
    this.timedOut = undefined
    const first = route.firstChunkTimeoutMs
    this.#streamAt = first > 0 ? Date.now() + first : Number.POSITIVE_INFINITY
    if (first > 0) this.#watch(this.#streamAt, first)
    return controller
  }

  /**
   * Counts a chunk of the turn. Only the first reads the clock; the timer
   * moves the idle deadline on when chunks came since its last look, so a
   * stall is found within the idle time plus one tick.
   */
  chunk(): void {
    if (this.#chunks++ > 0) return
    const idle = (this.#route as ResolvedRoute).idleTimeoutMs
    this.#seen = 1
    this.#streamAt = idle > 0 ? Date.now() + idle : Number.POSITIVE_INFINITY
    if (idle > 0) this.#watch(this.#streamAt, idle)
  }

  /** Ends the watch of the turn's stream. */
  endTurn(): void {
    this.#stream = undefined
    this.#streamAt = Number.POSITIVE_INFINITY
  }

  /** Watches a tool call until `endCall`: `timedOut` when its `at` passes, `aborted` with the stretch. */
  beginCall(call: WatchedCall, timeoutMs: number): void {
    this.#calls.push(call)
    if (timeoutMs > 0) this.#watch(call.at, timeoutMs)
  }

  /** Ends the watch of a call (it settled). */
  endCall(call: WatchedCall): void {
    const calls = this.#calls
    const index = calls.indexOf(call)
    if (index < 0) return
    calls[index] = calls[calls.length - 1] as WatchedCall
    calls.pop()
  }

  /** Aborts the stretch's turn and tool calls (the run was cancelled, closed, or crossed a limit). */
  abort(reason: unknown): void {
    this.#own?.abort(reason)
    const calls = this.#calls.splice(0)
    for (const call of calls) call.aborted(reason)
  }

  /** Ends the watch (the stretch is over). */
  stop(): void {
    if (!this.#watched) return
    this.#watched = false
    this.#windowMs = Number.POSITIVE_INFINITY
    deadlines.delete(this)
  }

  /** Called by the shared timer once `at` passed: fires what is due, and stays registered until `stop`. */
  expired(now: number): boolean {
    let next = Number.POSITIVE_INFINITY
    if (now >= this.#streamAt) {
      const route = this.#route as ResolvedRoute
      if (this.#chunks !== this.#seen) {
        this.#seen = this.#chunks
        this.#streamAt = now + route.idleTimeoutMs
      } else {
        const started = this.#chunks > 0
        const what = started ? `sent nothing for ${route.idleTimeoutMs} ms mid-stream` : `sent no first chunk within ${route.firstChunkTimeoutMs} ms`
        this.timedOut = new ProviderError('provider.timeout', `The provider did not answer in time: it ${what}`)
        this.#streamAt = Number.POSITIVE_INFINITY
        this.#timeOut(this.#stream as AbortController, this.timedOut)
      }
    }
    next = this.#streamAt
    const calls = this.#calls
    for (let index = calls.length - 1; index >= 0; index--) {
      const call = calls[index] as WatchedCall
      if (now >= call.at) {
        this.endCall(call)
        call.timedOut()
      } else if (call.at < next) next = call.at
    }
    this.at = next
    return false
  }

  #controller(outer: AbortSignal): AbortController {
    if (this.#run !== undefined) return this.#run.controller
    let controller = this.#own
    if (controller === undefined || (controller.signal.aborted && !outer.aborted)) {
      controller = new AbortController()
      this.#own = controller
    }
    if (outer.aborted && !controller.signal.aborted) controller.abort(outer.reason)
    return controller
  }

  /** Ends the turn streaming under `controller` with `error` (a timeout): the run goes on. */
  #timeOut(controller: AbortController, error: unknown): void {
    const run = this.#run
    if (run !== undefined && run.controller === controller) {
      run.controller = new AbortController()
      if (this.#context !== undefined) this.#context.signal = run.controller.signal
    }
    controller.abort(error)
  }

  #watch(at: number, windowMs: number): void {
    if (at < this.at) this.at = at
    // Registered once a stretch; again only when a shorter window needs the timer to tick faster.
    if (this.#watched && windowMs >= this.#windowMs) return
    this.#watched = true
    this.#windowMs = windowMs
    deadlines.add(this, windowMs)
  }
}
