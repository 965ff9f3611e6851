/**
 * Cancel and input from any runtime on the store. A run this runtime holds
 * is acted on at once. An executing runtime first takes over a run that no
 * live process holds (its owner is gone, dead or past its lease, or it has
 * none). Any other run gets a control request, recorded in the store for
 * the run's owner (or whoever recovers the run), which applies it exactly
 * once: its event and the request's settlement commit together. The call
 * resolves when that commit landed, or fails with `control.timeout` once
 * `timeoutMs` passed (the request is withdrawn first, so that it is never
 * applied after the caller was told it failed, unless the owner had already
 * accepted it).
 */
import { ControlTimeoutError, HearthError, NotFoundError, StateError, toErrorInfo, ValidationError } from './errors.js'
import { createId } from './ids.js'
import type { Logger } from './logger.js'
import type { ActiveRun } from './active-run.js'
import type { Scheduler } from './scheduler.js'
import { isTerminalStatus, type ControlAction, type ControlRequest, type ControlSettlement, type Run, type RunStatus, type Store } from './store.js'

/** What cancel and input for a run need from the runtime. */
export interface RunControlHost {
  store: Store
  scheduler: Scheduler
  /** A run's record; `not_found.run` when unknown or of another org. */
  getRun(runId: string, scope: { orgId?: string | undefined }): Promise<Run>
  /** False for an observer (`execute: false`), which never claims. */
  executes: boolean
  /** This runtime's owner id, when it executes on a store that keeps owners. */
  ownerId: string | undefined
  /** A recovery pass that starts after this call: claims and takes up every run no live process holds. */
  recover(): Promise<void>
  /** How long a caller waits for the run's owner (`controlTimeoutMs`). */
  timeoutMs: number
  logger: Logger
}

/** How often a waiting caller looks at its request when the store reports no change. */
const pollMs = 100

function ended(runId: string, status: RunStatus, action: ControlAction): StateError {
  return new StateError(action.kind === 'input' ? `Run ${runId} is ${status}, not waiting for input` : `Run ${runId} is ${status} and cannot be cancelled`)
}

/** The refusals that need no owner: an ended run, input to a run that is not waiting or for a call it does not wait on. */
function refuseAtOnce(run: Run, action: ControlAction): void {
  if (isTerminalStatus(run.status)) throw ended(run.id, run.status, action)
  if (action.kind !== 'input') return
  if (run.status !== 'waiting_for_input') throw new StateError(`Run ${run.id} is not waiting for input`)
  const open = run.pendingInput.map((request) => request.tool_call_id)
  if (action.toolCallId !== undefined && !open.includes(action.toolCallId)) {
    throw new ValidationError(`Run ${run.id} has no open request for tool call ${action.toolCallId}`, { details: { open } })
  }
}

/** The error a refused request carries, as the class its code belongs to. */
function refusal(error: ControlRequest['error']): HearthError {
  const { code, message } = error ?? { code: 'state.invalid', message: 'The request was refused' }
  if (code === 'validation.invalid' || code === 'validation.too_large') return new ValidationError(message, { code })
  if (code === 'state.invalid' || code === 'state.thread_busy') return new StateError(message, { code })
  return new HearthError(code, message)
}

/** Cancel and input for this runtime: as the caller, and as the owner that applies requests. */
export class RunControl {
  readonly #host: RunControlHost
  /** Callers waiting for the store to change. */
  readonly #waiters = new Set<() => void>()
  /** Requests this runtime is applying now, so that overlapping passes apply each once. */
  readonly #applying = new Set<string>()

  constructor(host: RunControlHost) {
    this.#host = host
  }

  /** Wakes the callers waiting for their requests (the store reported a change). */
  storeChanged(): void {
    for (const wake of [...this.#waiters]) wake()
  }

  /**
   * Cancels or answers a run wherever it executes.
   * @throws NotFoundError `not_found.run` for an unknown run or another org's.
   * @throws StateError `state.invalid` for an ended run, input to a run not waiting (or for a call already answered).
   * @throws ValidationError `validation.invalid` for a `toolCallId` the run does not wait on.
   * @throws ControlTimeoutError `control.timeout` when no owner applied it within `timeoutMs`.
   */
  async control(runId: string, orgId: string | undefined, action: ControlAction): Promise<void> {
    const host = this.#host
    const held = host.scheduler.get(runId)
    if (held !== undefined && (orgId === undefined || held.run.orgId === orgId)) return this.#apply(held, action)
    let run = await host.getRun(runId, { orgId })
    refuseAtOnce(run, action)
    const { store } = host
    if (host.executes) {
      await host.recover()
      const taken = host.scheduler.get(runId)
      if (taken !== undefined && !taken.log.sealed) return this.#apply(taken, action)
      // Under `recovery: 'fail'` the takeover itself ended the run: answer as for any ended run, once that is stored.
      await taken?.log.flush().catch(() => {})
      run = await host.getRun(runId, { orgId })
      refuseAtOnce(run, action)
      const owner = (await store.getRunOwner?.(runId)) ?? null
      if (owner !== null && owner === host.ownerId) {
        // Claimed, but not taken up: recovery logged why.
        throw new StateError(`Run ${runId} is ${run.status} and this runtime cannot execute it: its agent or route is not defined here`, { details: { owner_id: owner } })
      }
    }
    if (store.insertControl === undefined || store.getControl === undefined || store.markControl === undefined) {
      throw new StateError(`Run ${runId} is ${run.status} in another runtime, and this store records no control requests`)
    }
    const request: ControlRequest = { id: createId('ctl'), runId, action, status: 'pending', error: null, createdAt: new Date().toISOString(), settledAt: null }
    if (!(await store.insertControl(request))) {
      run = await host.getRun(runId, { orgId })
      refuseAtOnce(run, action)
      throw new StateError(`Run ${runId} ended before the request was recorded`)
    }
    await this.#settled(request)
  }

  /**
   * Cancels a session's active and queued runs: this runtime's at once,
   * other runtimes' through their owners, all at once. A run already ended
   * is skipped; one no runtime cancelled in time is logged and left (a
   * deleted run's owner fails its next commit and stops).
   */
  async cancelSession(sessionId: string, reason: string): Promise<void> {
    const { scheduler, store, logger } = this.#host
    const ignoreEnded = (error: unknown): void => {
      if (!(error instanceof StateError)) throw error
    }
    for (const active of scheduler.runsOf(sessionId)) await scheduler.cancel(active, reason).catch(ignoreEnded)
    const unfinished = await store.listRuns({ sessionId, statuses: ['queued', 'running', 'waiting_for_input'], limit: 100 })
    const elsewhere = unfinished.filter((run) => scheduler.get(run.id) === undefined)
    await Promise.all(
      elsewhere.map((run) =>
        this.control(run.id, undefined, { kind: 'cancel', reason }).catch((error: unknown) => {
          if (error instanceof ControlTimeoutError) logger.warn(`hearth: run ${run.id} of session ${sessionId} was not cancelled: ${error.message}`)
          else ignoreEnded(error)
        }),
      ),
    )
  }

  /** Applies the pending requests of the runs this runtime owns and holds (after every recovery pass). */
  async applyPending(): Promise<void> {
    const { store, ownerId, scheduler } = this.#host
    if (ownerId === undefined || store.pendingControls === undefined) return
    for (const request of await store.pendingControls(ownerId)) {
      const active = scheduler.get(request.runId)
      // A run not held here cannot be executed here (recovery logged why): its caller times out.
      if (active === undefined || this.#applying.has(request.id)) continue
      this.#applying.add(request.id)
      try {
        await this.#applyRequest(active, request)
      } catch (error) {
        this.#host.logger.error(`hearth: could not apply control request ${request.id} to run ${request.runId}`, error)
      } finally {
        this.#applying.delete(request.id)
      }
    }
  }

  async #applyRequest(active: ActiveRun, request: ControlRequest): Promise<void> {
    const store = this.#host.store
    const at = (): string => new Date().toISOString()
    // Accepted first, so that its caller can no longer withdraw it; an accepted one (its owner died) is applied as it is.
    if (request.status === 'pending' && !(await store.markControl?.(request.id, 'accepted', at()))) return
    try {
      await this.#apply(active, request.action, { id: request.id, status: 'applied', settledAt: at() })
    } catch (error) {
      // Refused before anything was appended (the checks of cancel and input throw first): say why to the caller.
      if (!(error instanceof StateError || error instanceof ValidationError)) throw error
      await store.commit({ settleControls: [{ id: request.id, status: 'refused', error: toErrorInfo(error), settledAt: at() }] })
    }
  }

  #apply(active: ActiveRun, action: ControlAction, settlement?: ControlSettlement): Promise<void> {
    const { scheduler } = this.#host
    if (action.kind === 'cancel') return scheduler.cancel(active, action.reason, settlement)
    const { content, approved, toolCallId } = action
    return scheduler.submitInput(active, { content, ...(approved === undefined ? {} : { approved }), ...(toolCallId === undefined ? {} : { toolCallId }) }, settlement)
  }

  /** Resolves at the next change the store reports, or after `ms`. */
  #changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters
      const timer = setTimeout(wake, ms)
      function wake(): void {
        clearTimeout(timer)
        waiters.delete(wake)
        resolve()
      }
      waiters.add(wake)
    })
  }

  /** Waits until the request is applied (resolves) or refused (throws its error); withdraws it on timeout or when its run ended. */
  async #settled(request: ControlRequest): Promise<void> {
    const { timeoutMs } = this.#host
    const store = this.#host.store as Required<Pick<Store, 'getControl' | 'markControl'>> & Store
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const current = await store.getControl(request.id)
      if (current === undefined) throw new NotFoundError('not_found.run', `Run ${request.runId} does not exist`)
      if (current.status === 'applied') return
      if (current.status === 'refused') throw refusal(current.error)
      const now = Date.now()
      if (current.status === 'pending') {
        // A run that ended while the request waited has no owner to take it: withdraw, and say so.
        const run = await store.getRun(request.runId)
        const over = run === undefined || isTerminalStatus(run.status)
        if ((over || now >= deadline) && (await store.markControl(request.id, 'withdrawn', new Date(now).toISOString()))) {
          if (run === undefined) throw new NotFoundError('not_found.run', `Run ${request.runId} does not exist`)
          if (over) throw ended(run.id, run.status, request.action)
          throw timedOut(request, timeoutMs, false)
        }
      } else if (now >= deadline) {
        throw timedOut(request, timeoutMs, true)
      }
      await this.#changed(Math.max(1, Math.min(pollMs, deadline - now)))
    }
  }
}

function timedOut(request: ControlRequest, timeoutMs: number, accepted: boolean): ControlTimeoutError {
  const what = request.action.kind === 'input' ? 'input' : 'cancel'
  const status = accepted ? 'accepted' : 'withdrawn'
  const after = accepted
    ? 'its owner accepted it and may still apply it'
    : 'it was withdrawn and will not be applied; no executing runtime holds the run, or its owner is stalled'
  return new ControlTimeoutError(`The ${what} of run ${request.runId} was not applied within ${timeoutMs} ms: ${after}`, {
    details: { request_id: request.id, status },
  })
}
