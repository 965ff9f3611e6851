/**
 * The argument checks of the Runtime's run reads: the run list (and its
 * cursor) and the cursors and page sizes of event reads.
 */
import { ValidationError } from './errors.js'
import type { ListRunsOptions } from './runtime-options.js'
import { runStatuses, type Run, type Store } from './store.js'
import { checkObject, optionalChoice, optionalString, pageLimit } from './validate.js'

/** Checks `listRuns`' options, and that a cursor `before` is a run of the same org and session, then lists. */
export async function listRunsChecked(store: Store, options: ListRunsOptions): Promise<Run[]> {
  checkObject(options, 'options')
  const limit = pageLimit(options.limit)
  const orgId = optionalString(options.orgId, 'orgId')
  const sessionId = optionalString(options.sessionId, 'sessionId')
  const parentRunId = optionalString(options.parentRunId, 'parentRunId', { nonEmpty: true })
  const statuses = options.status === undefined ? undefined : typeof options.status === 'string' ? [options.status] : options.status
  if (statuses !== undefined) for (const status of statuses) optionalChoice(status, 'status', runStatuses)
  const before = optionalString(options.before, 'before', { nonEmpty: true })
  if (before !== undefined) {
    const cursor = await store.getRun(before)
    const outside = (orgId !== undefined && cursor?.orgId !== orgId) || (sessionId !== undefined && cursor?.sessionId !== sessionId) || (parentRunId !== undefined && cursor?.parentRunId !== parentRunId)
    if (cursor === undefined || outside) {
      throw new ValidationError(`Unknown cursor \`before\`: ${before}`)
    }
  }
  const order = optionalChoice(options.order, 'order', ['asc', 'desc'] as const) ?? 'desc'
  return store.listRuns({ orgId, sessionId, ...(parentRunId === undefined ? {} : { parentRunId }), statuses, limit, before, order })
}

/** An event cursor: a non-negative integer, 0 when undefined; `validation.invalid` otherwise. */
export function checkAfterSeq(value: unknown): number {
  const afterSeq = value ?? 0
  if (typeof afterSeq !== 'number' || !Number.isInteger(afterSeq) || afterSeq < 0) {
    throw new ValidationError(`Expected \`afterSeq\` to be a non-negative integer, got \`${String(afterSeq)}\``)
  }
  return afterSeq
}

/** A page size of stored events: a positive integer, `fallback` when undefined; `validation.invalid` otherwise. */
export function checkEventLimit(value: unknown, fallback: number): number {
  const limit = value ?? fallback
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(`Expected \`limit\` to be a positive integer, got \`${String(limit)}\``)
  }
  return limit
}
