/**
 * Retention: deleting the finished runs that ended before a time, in
 * batches, through the store's `pruneRuns`.
 */
import { StateError, ValidationError } from './errors.js'
import type { Store } from './store.js'
import { checkObject } from './validate.js'

/** Options of `Runtime.prune`. */
export interface PruneOptions {
  /** Runs that finished (completed, failed, cancelled) before this time go, with their events. */
  finishedBefore: Date | string
  /** Runs deleted per store call; the event loop runs between calls. @default 500 */
  batchSize?: number
}

/** Calls `store.pruneRuns` until a batch comes back short, yielding between batches; resolves with how many went. */
export async function pruneFinishedRuns(store: Store, options: PruneOptions): Promise<number> {
  checkObject(options, 'options')
  const before = options.finishedBefore instanceof Date ? options.finishedBefore : new Date(String(options.finishedBefore))
  if (Number.isNaN(before.getTime())) throw new ValidationError('Expected `finishedBefore` to be a Date or an ISO time')
  const batchSize = options.batchSize ?? 500
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValidationError('Expected `batchSize` to be a positive integer')
  const pruneRuns = store.pruneRuns?.bind(store)
  if (pruneRuns === undefined) throw new StateError('This store cannot prune runs')
  const iso = before.toISOString()
  let total = 0
  for (;;) {
    const deleted = await pruneRuns(iso, batchSize)
    total += deleted
    if (deleted < batchSize) return total
    await new Promise((resolve) => setImmediate(resolve))
  }
}
