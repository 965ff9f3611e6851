/**
 * RunHandle: what `createRun` returns. A thin view on one run of a Runtime.
 */
import type { RunEvent } from './events.js'
import type { RunEventsOptions } from './event-stream.js'
import type { Run } from './store.js'

/** The runtime operations a handle uses. */
export interface RunHandleHost {
  runEvents(runId: string, options?: RunEventsOptions): AsyncIterable<RunEvent>
  waitForRun(runId: string): Promise<Run>
  cancelRun(runId: string, options?: { reason?: string }): Promise<void>
}

/** A run started by `createRun`. */
export class RunHandle {
  /** The run's id (`run_...`). */
  readonly id: string
  readonly sessionId: string
  readonly traceId: string
  readonly #host: RunHandleHost

  constructor(host: RunHandleHost, run: Pick<Run, 'id' | 'sessionId' | 'traceId'>) {
    this.#host = host
    this.id = run.id
    this.sessionId = run.sessionId
    this.traceId = run.traceId
  }

  /** The run's events: replayed from the log, then live, ending after the terminal event. */
  events(options: RunEventsOptions = {}): AsyncIterable<RunEvent> {
    return this.#host.runEvents(this.id, options)
  }

  /** Resolves with the run's record once it has ended (completed, failed or cancelled). */
  result(): Promise<Run> {
    return this.#host.waitForRun(this.id)
  }

  /** Cancels the run; see `Runtime.cancelRun`. */
  cancel(options: { reason?: string } = {}): Promise<void> {
    return this.#host.cancelRun(this.id, options)
  }
}
