/**
 * Input and cancel for a run this runtime may not hold. An executing runtime
 * takes over at once a run that no live process holds (its owner is gone,
 * dead or past its lease, or it has none) and then answers or cancels it as
 * its own, without waiting for a heartbeat. A run that another live process
 * executes, and any run when this runtime only observes, is refused with
 * `state.invalid` and `details.owner_id`: input and cancel do not cross
 * processes (yet).
 */
import { StateError } from './errors.js'
import type { ActiveRun } from './scheduler.js'
import { isTerminalStatus, type Run, type RunStatus } from './store.js'

/** What taking over a run for input or cancel needs from the runtime. */
export interface RunControlContext {
  /** The run if this runtime holds it. */
  held(runId: string): ActiveRun | undefined
  /** A run's record; `not_found.run` when unknown or of another org. */
  getRun(runId: string, scope: { orgId?: string | undefined }): Promise<Run>
  /** The run's owner in the store (null when it has none, or the store keeps no owners). */
  runOwner(runId: string): Promise<string | null>
  /** False for an observer (`execute: false`), which never claims. */
  executes(): boolean
  /** This runtime's owner id, when it executes on a store that keeps owners. */
  ownerId(): string | undefined
  /** A recovery pass that starts after this call: claims and takes up every run no live process holds. */
  recover(): Promise<void>
}

/** What the caller wanted to do to the run. */
export type RunAction = 'input' | 'cancel'

function ended(runId: string, status: RunStatus, action: RunAction): StateError {
  return new StateError(action === 'input' ? `Run ${runId} is ${status}, not waiting for input` : `Run ${runId} is ${status} and cannot be cancelled`)
}

function notHere(run: Run, ownerId: string | null, context: RunControlContext, action: RunAction): StateError {
  const what = action === 'input' ? 'input' : 'a cancel'
  const details = { owner_id: ownerId }
  if (!context.executes()) {
    const where = ownerId === null ? 'an executing runtime (the run has no owner yet)' : `the runtime that executes it (owner ${ownerId})`
    return new StateError(`Run ${run.id} is ${run.status} and this runtime only observes (execute: false): ${what} must go to ${where}`, { details })
  }
  if (ownerId !== null && ownerId !== context.ownerId()) {
    return new StateError(`Run ${run.id} is ${run.status} in another live process (owner ${ownerId}): ${what} must go to the runtime that executes it`, { details })
  }
  // Claimed, but not taken up: recovery logged why (its agent or route is not defined in this runtime).
  return new StateError(`Run ${run.id} is ${run.status} and this runtime cannot execute it: its agent or route is not defined here`, { details })
}

/**
 * The run `submitInput` or `cancelRun` acts on, held by this runtime:
 * taken over first when no live process holds it.
 * @throws NotFoundError `not_found.run` for an unknown run or another org's.
 * @throws StateError `state.invalid` for an ended run, and with `details.owner_id`
 *   for a run another live process executes or one this observer cannot take.
 */
export async function controlledRun(context: RunControlContext, runId: string, orgId: string | undefined, action: RunAction): Promise<ActiveRun> {
  const held = context.held(runId)
  if (held !== undefined && (orgId === undefined || held.run.orgId === orgId)) return held
  let run = await context.getRun(runId, { orgId })
  if (!isTerminalStatus(run.status) && context.executes()) {
    await context.recover()
    const taken = context.held(runId)
    if (taken !== undefined && !taken.log.sealed) return taken
    // Under `recovery: 'fail'` the takeover itself ended the run: answer as for any ended run, once that is stored.
    await taken?.log.flush().catch(() => {})
    run = await context.getRun(runId, { orgId })
  }
  if (isTerminalStatus(run.status)) throw ended(runId, run.status, action)
  throw notHere(run, await context.runOwner(runId), context, action)
}
