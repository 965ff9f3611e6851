/**
 * A child's requests for input, mirrored in its parent: a parent whose
 * child waits for input waits with it (`waiting_for_input`, its
 * `pending_input` entries carrying the child's `run_id`), and takes the
 * answer the child received (`run.input_received` with `run_id`), so a
 * client that follows only the top-level run sees every question and its
 * answer. The mirror is rebuilt from the child's log (the watcher reads it
 * from its start), so it holds across a crash without appending anything twice.
 */
import { isTerminalEvent, type InputRequest, type RunEvent } from './events.js'
import type { Logger } from './logger.js'
import { openRequests, requestKey } from './run-state.js'
import type { ActiveRun } from './active-run.js'

/** What a parent knows of one child's requests, folded from the child's log. */
export class ChildView {
  readonly childId: string
  /** Open requests by key, `run_id` set (the child's own, or a grandchild's it mirrors). */
  readonly open = new Map<string, InputRequest>()
  /** Every request key the child asked. */
  readonly seen = new Set<string>()
  readonly answers = new Map<string, { approved: boolean; content: string }>()
  ended = false

  constructor(childId: string) {
    this.childId = childId
  }

  /** Folds one event of the child's log; true when its requests changed. */
  apply(event: RunEvent): boolean {
    if (event.type === 'run.waiting_for_input') {
      for (const request of event.data.requests) {
        const mirrored: InputRequest = { ...request, run_id: request.run_id ?? this.childId }
        const key = requestKey(mirrored)
        this.seen.add(key)
        if (!this.answers.has(key)) this.open.set(key, mirrored)
      }
      return true
    }
    if (event.type === 'run.input_received') {
      const key = requestKey({ tool_call_id: event.data.tool_call_id, run_id: event.data.run_id ?? this.childId })
      this.open.delete(key)
      this.answers.set(key, { approved: event.data.approved, content: event.data.content })
      return true
    }
    if (isTerminalEvent(event)) {
      this.ended = true
      this.open.clear()
      return true
    }
    return false
  }
}

/** The views of the children each parent (held here) waits on. */
export class ChildInputMirror {
  readonly #byParent = new Map<string, Map<string, ChildView>>()
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** A fresh view of `childId` for `parent`. */
  open(parent: ActiveRun, childId: string): ChildView {
    let views = this.#byParent.get(parent.run.id)
    if (views === undefined) this.#byParent.set(parent.run.id, (views = new Map()))
    const view = new ChildView(childId)
    views.set(childId, view)
    return view
  }

  /** Forgets the view of a child no longer followed. */
  close(parent: ActiveRun, childId: string): void {
    const views = this.#byParent.get(parent.run.id)
    views?.delete(childId)
    if (views?.size === 0) this.#byParent.delete(parent.run.id)
  }

  /**
   * Brings the parent's mirrored requests in line with its children's:
   * answers (and requests of a child that ended unanswered) first, then new
   * requests, with the parent's status and `pendingInput` in the same commit.
   */
  reconcile(parent: ActiveRun): void {
    const { log } = parent
    const phase = log.state.toolPhase
    const views = this.#byParent.get(parent.run.id)
    if (phase === undefined || views === undefined || log.sealed || log.broken !== undefined) return
    let changed = false
    for (const request of openRequests(phase)) {
      if (request.run_id === undefined) continue
      const key = requestKey(request)
      for (const view of views.values()) {
        const answer = view.answers.get(key) ?? (view.ended && view.seen.has(key) ? { approved: false, content: '' } : undefined)
        if (answer === undefined) continue
        log.append('run.input_received', { tool_call_id: request.tool_call_id, approved: answer.approved, content: answer.content, run_id: request.run_id })
        changed = true
        break
      }
    }
    const open = openRequests(phase)
    const known = new Set(open.map(requestKey))
    const fresh: InputRequest[] = []
    for (const view of views.values()) {
      for (const [key, request] of view.open) if (!known.has(key) && !phase.answers.has(key)) fresh.push(request)
    }
    if (fresh.length > 0) {
      log.append('run.waiting_for_input', { requests: [...open, ...fresh] })
      changed = true
    }
    if (!changed) return
    const pending = openRequests(log.state.toolPhase)
    log.patch({ status: pending.length > 0 ? 'waiting_for_input' : 'running', pendingInput: pending })
    log.flush().catch((error: unknown) => this.#logger.error(`hearth: could not record the input requests of the children of run ${parent.run.id}`, error))
  }
}
