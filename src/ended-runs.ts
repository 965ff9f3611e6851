/**
 * The events of the runs this runtime ended last, kept for the readers who
 * come right after the end: a quick run (a scripted model in a test, a run
 * answered from a cache) often ends before its caller starts reading, and
 * without these that reader reads the whole log back from the store. Only a
 * run whose every event was held (at most `maxHeldEvents`) and committed is
 * kept; the oldest goes past `maxEndedRuns`.
 */
import type { RunEvent } from './events.js'

/** How many ended runs' events are kept. */
export const maxEndedRuns = 64

/** The last ended runs' committed events, by run id. */
export class EndedRuns {
  readonly #runs = new Map<string, { sessionId: string; events: readonly RunEvent[] }>()

  /** Keeps the events of a run that ended (seq 1 at index 0, the terminal event last). */
  add(runId: string, sessionId: string, events: readonly RunEvent[]): void {
    this.#runs.delete(runId)
    this.#runs.set(runId, { sessionId, events })
    if (this.#runs.size > maxEndedRuns) this.#runs.delete(this.#runs.keys().next().value as string)
  }

  /** The events of a run that ended here lately, or undefined. */
  get(runId: string): readonly RunEvent[] | undefined {
    return this.#runs.get(runId)?.events
  }

  /** Forgets the runs of a deleted session. */
  forgetSession(sessionId: string): void {
    for (const [runId, entry] of this.#runs) if (entry.sessionId === sessionId) this.#runs.delete(runId)
  }
}
