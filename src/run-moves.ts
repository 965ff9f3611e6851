/**
 * The moves of a held run outside the loop: an answer to one of its
 * requests, and a cancel. Each commits its event with the status change
 * (and a control request's settlement), then hands the run back to the
 * scheduler: resumed, or gone from its lane.
 */
import { finalPatch } from './agent-loop.js'
import type { ActiveRun } from './active-run.js'
import { StateError, ValidationError } from './errors.js'
import { openRequests, ownOpenRequests } from './run-state.js'
import type { ControlSettlement } from './store.js'
import { abandonPendingMemory } from './memory-extraction.js'

/** What the moves need of the scheduler. */
export interface MoveHost {
  /** Schedules a stretch of the run. */
  schedule(active: ActiveRun): void
  /** Stops the work of a run whose commit failed; recovery takes it up again. */
  drop(active: ActiveRun, error: unknown): void
  /** Takes an ended run out of its lane. */
  leave(active: ActiveRun): void
  creditsPerUsd(): number
}

/** Answers one open request of a waiting run; resumes it when none of its own is left open. */
export async function answerRun(host: MoveHost, active: ActiveRun, input: { content: string; approved?: boolean; toolCallId?: string }, settlement?: ControlSettlement): Promise<void> {
  const { log } = active
  const phase = log.state.toolPhase
  // A child's requests (mirrored here) are answered in the child: the runtime sends their input there.
  const open = ownOpenRequests(phase)
  if (log.sealed || open.length === 0) {
    throw new StateError(`Run ${active.run.id} is not waiting for input`)
  }
  const request = input.toolCallId === undefined ? open[0] : open.find((entry) => entry.tool_call_id === input.toolCallId)
  if (request === undefined && phase?.answers.has(input.toolCallId as string) === true) {
    throw new StateError(`Tool call ${String(input.toolCallId)} of run ${active.run.id} was already answered`)
  }
  if (request === undefined) {
    throw new ValidationError(`Run ${active.run.id} has no open request for tool call ${String(input.toolCallId)}`, {
      details: { open: open.map((entry) => entry.tool_call_id) },
    })
  }
  const approved = input.approved ?? /^(approve|yes)$/i.test(input.content.trim())
  log.append('run.input_received', { tool_call_id: request.tool_call_id, approved, content: input.content })
  const remaining = openRequests(phase)
  log.patch(remaining.length === 0 ? { status: 'running', pendingInput: [] } : { pendingInput: remaining })
  if (settlement !== undefined) log.settleControl(settlement)
  // A stretch still unwinding from its wait picks the answers up itself when it ends; a child's open requests do not hold the run's own calls back.
  const resume = ownOpenRequests(phase).length === 0 && !active.executing
  if (resume) active.executing = true
  try {
    await log.flush()
  } catch (error) {
    // The answer is not in the store, though this process's state took it: the run goes on from its log.
    host.drop(active, error)
    throw error
  }
  if (resume) host.schedule(active)
}

/** Cancels a run in any non-terminal status; resolves once `run.cancelled` is committed. */
export async function cancelRun(host: MoveHost, active: ActiveRun, reason: string, settlement?: ControlSettlement): Promise<void> {
  const { log } = active
  if (log.sealed) throw new StateError(`Run ${active.run.id} has already ended`)
  const cancelled = new Error(reason)
  active.controller.abort(cancelled)
  active.watch?.abort(cancelled)
  const state = log.state
  const phase = state.toolPhase
  if (phase !== undefined) {
    for (const call of phase.calls) {
      if (phase.results.has(call.id)) continue
      if (!phase.announced.has(call.id)) {
        log.append('tool.call', { tool_call_id: call.id, name: call.name, arguments: call.arguments, requires_confirmation: false })
      }
      log.append('tool.result', { tool_call_id: call.id, name: call.name, output: `Cancelled: ${reason}`, is_error: true, error_code: 'tool.cancelled' })
    }
  }
  abandonPendingMemory(log, 'The run was cancelled before its memory extraction ended')
  const now = Date.now()
  const patch = finalPatch(state, 'cancelled', state.partialText, active.route, host.creditsPerUsd(), now)
  log.append('run.cancelled', { reason, content: state.partialText }, now)
  log.patch(patch)
  if (settlement !== undefined) log.settleControl(settlement)
  await log.flush().catch((error: unknown) => {
    host.drop(active, error)
    throw error
  })
  // An executing loop sees the abort and returns 'aborted'; the lane moves on now.
  host.leave(active)
}
