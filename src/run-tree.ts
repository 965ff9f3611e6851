/**
 * A run with its child runs, recursively: what `GET /v1/runs/{id}/tree` serves.
 */
import type { Run, Store } from './store.js'

/** A run and its children (oldest first), each with theirs. */
export interface RunTree {
  run: Run
  children: RunTree[]
}

/** The most children of one run a tree lists. */
export const maxTreeChildren = 1000

/**
 * The tree below `run`, `depth` levels deep (0: the run alone), each run's
 * children oldest first, at most {@link maxTreeChildren} of each.
 */
export async function readRunTree(store: Store, run: Run, depth: number): Promise<RunTree> {
  if (depth <= 0) return { run, children: [] }
  const children = await store.listRuns({ parentRunId: run.id, limit: maxTreeChildren, order: 'asc' })
  return { run, children: await Promise.all(children.map((child) => readRunTree(store, child, depth - 1))) }
}
