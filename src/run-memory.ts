/**
 * What a stretch of a run reads and starts for its user's memories: whose
 * memories they are (the session's user, for a top-level run of an agent
 * with `memory`), the memories its instructions carry, and the extraction
 * alongside it (`memory: 'auto'`), started with the run or again after a
 * restart that cut one short.
 */
import type { RunUser } from './agent-loop.js'
import type { ActiveRun } from './active-run.js'
import { keepsMemories, UserMemories } from './memory-api.js'
import { MemoryTask } from './memory-extraction.js'
import type { ResolvedRoute } from './routes.js'
import type { Session, Store } from './store.js'
import { memoriesToInject, type MemoryOwner, type UserMemory } from './user-memories.js'

/**
 * The user a stretch acts for (its session's), with their memories when the
 * store keeps them and the run is theirs: started by them, or by no user (in
 * process, an operator), never by another user.
 */
export function runUser(store: Store, active: ActiveRun, session: Session | undefined): RunUser {
  const userId = session?.userId ?? null
  const creator = active.run.createdBy?.userId ?? null
  const theirs = userId !== null && (creator === null || creator === userId)
  return { userId, memories: theirs && keepsMemories(store) ? new UserMemories(store, { orgId: active.run.orgId, userId }) : undefined }
}

/**
 * Whose memories the run keeps: undefined for a run of an agent without
 * memory, a child run, a session without a user, or a run another user
 * started on the session (its creator would read the session user's memories).
 */
export function memoryOwner(active: ActiveRun, user: RunUser): MemoryOwner | undefined {
  if (active.agent.memory === undefined || active.run.parentRunId !== null || user.memories === undefined) return undefined
  return user.memories.owner
}

/** The user's newest memories, as many as the agent's `maxMemories`. */
export async function knownMemories(store: Store, owner: MemoryOwner, active: ActiveRun): Promise<UserMemory[]> {
  const max = active.agent.memory?.maxMemories ?? 0
  const page = await (store.listMemories as NonNullable<Store['listMemories']>)({ ...owner, limit: max })
  return page.memories
}

/** The memories a starting run's instructions carry (`run.started`'s `memories`). */
export function injectedMemories(active: ActiveRun, known: readonly UserMemory[]): { memory_id: string; memory: string }[] {
  const memory = active.agent.memory
  if (memory === undefined) return []
  return memoriesToInject(known, memory.maxMemories, memory.maxChars).map((entry) => ({ memory_id: entry.id, memory: entry.memory }))
}

/**
 * Starts the run's extraction: with `memory.update_started` for a run that
 * starts, or again, without it, for one whose extraction a restart cut
 * short. A route the agent names that is not defined fails the extraction,
 * not the run.
 */
export function startExtraction(active: ActiveRun, owner: MemoryOwner, known: readonly UserMemory[], starting: boolean): void {
  const { log } = active
  const options = active.agent.memory
  if (options?.mode !== 'auto' || log.sealed) return
  let route: ResolvedRoute
  try {
    route = options.route === undefined ? active.route : active.route.resolve(options.route)
  } catch {
    route = active.route
  }
  if (starting) log.append('memory.update_started', { route_id: route.id, model: route.model })
  else if (log.state.memory !== 'pending') return
  const input = log.state.messages.find((message) => message.role === 'user')?.content ?? ''
  active.memoryTask = new MemoryTask(log, { owner, agentKey: active.agent.key, route, input, known, timeoutMs: options.timeoutMs, signal: active.controller.signal })
}
