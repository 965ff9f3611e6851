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

/** A run started by `createRun`. `Output` is the type of its `output`, known when it was started with an agent's definition. */
export class RunHandle<Output = unknown> {
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

  /** Resolves with the run's record once it has ended (completed, failed or cancelled); `output` is typed by the agent's schema when known. */
  result(): Promise<Run<Output>> {
    return this.#host.waitForRun(this.id) as Promise<Run<Output>>
  }

  /** Cancels the run; see `Runtime.cancelRun`. */
  cancel(options: { reason?: string } = {}): Promise<void> {
    return this.#host.cancelRun(this.id, options)
  }
}
