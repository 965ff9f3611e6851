/**
 * A run this runtime holds while it executes or waits (`ActiveRun`), and
 * the first messages every run starts from.
 */
import type { Agent } from './agents.js'
import type { MemoryTask } from './memory-extraction.js'
import type { Message } from './model.js'
import type { ResolvedRoute } from './routes.js'
import type { RunLog } from './run-log.js'
import type { StretchWatch } from './stretch-watch.js'
import type { Run, Session } from './store.js'

/** A run this runtime holds in memory until it ends. */
export interface ActiveRun {
  run: Run
  log: RunLog
  agent: Agent
  route: ResolvedRoute
  controller: AbortController
  /** False until the run's insert is committed. */
  ready: boolean
  /** True while a loop stretch is queued or executing. */
  executing: boolean
  /**
   * Start only once the store gave the run its session (`claimSession`):
   * set for a recovered queued run, whose session another process may hold.
   */
  careful: boolean
  /**
   * The session as `createRun` read it, for the first stretch of a run that
   * starts at once (no run of its session before it could change its state);
   * the session is read again otherwise.
   */
  session: Session | undefined
  /** The watch over the stretch executing now (its turns' controller and its deadlines): aborted with the run. */
  watch?: StretchWatch
  /** The run's memory extraction under way in this process (`memory: 'auto'`). */
  memoryTask?: MemoryTask
  /** True once the run before it in its lane passed it the session as it ended: no claim to make before it starts. */
  sessionPassed: boolean
  /** Resolves when the run leaves this runtime (ended, or the runtime closed). */
  done: Promise<void>
  release: () => void
}


/** The first messages of a run: its agent's instructions and its input. */
export function initialMessages(agent: Agent, input: string, createdAt: string): Message[] {
  const messages: Message[] = []
  if (agent.instructions !== '') messages.push({ role: 'system', content: agent.instructions, createdAt })
  messages.push({ role: 'user', content: input, createdAt })
  return messages
}
