/**
 * The session claim of the in-memory Store: a run may hold its session
 * (`Session.activeRunId`) when no other run holds it and no older run of the
 * session is queued, so runs of a session start one at a time and in order.
 */
import type { Run, Session } from './store.js'

/** The queued runs of each session. */
export class QueuedRuns {
  readonly #bySession = new Map<string, Set<string>>()

  /** Records whether `run` is queued. */
  set(run: Pick<Run, 'id' | 'sessionId'>, queued: boolean): void {
    const set = this.#bySession.get(run.sessionId)
    if (queued) {
      if (set === undefined) this.#bySession.set(run.sessionId, new Set([run.id]))
      else set.add(run.id)
    } else if (set !== undefined) {
      set.delete(run.id)
      if (set.size === 0) this.#bySession.delete(run.sessionId)
    }
  }

  /** The oldest queued run of the run's session that is older than it, if any. */
  olderThan(run: Pick<Run, 'id' | 'sessionId'>): string | undefined {
    let oldest: string | undefined
    for (const id of this.#bySession.get(run.sessionId) ?? []) if (id < run.id && (oldest === undefined || id < oldest)) oldest = id
    return oldest
  }

  /** Forgets a deleted session. */
  removeSession(sessionId: string): void {
    this.#bySession.delete(sessionId)
  }
}

/** The run that keeps `run` from holding its session, or undefined when it may hold it. */
export function claimBlocker(session: Session, run: Run, queued: QueuedRuns): string | undefined {
  const holder = session.activeRunId
  if (holder !== null) return holder === run.id ? undefined : holder
  return queued.olderThan(run)
}
