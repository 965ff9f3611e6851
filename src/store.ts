/**
 * The Store interface and the records it keeps. A store is small, async and
 * atomic where it says so: `commit` writes a run's patch, its events and the
 * session state in one transaction. Every store runs the contract suite in
 * `src/testing/contracts/store-contract.ts` (exported as `hearth-runtime/testing/contracts`).
 */
import type { ContextSummary } from './context-window.js'
import type { JsonObject, RunEvent, InputRequest } from './events.js'
import type { ErrorCode } from './errors.js'
import type { Message } from './model.js'
import type { MemoryOwner, MemoryPage, MemoryPatch, MemoryQuery, MemoryWrites, UserMemory } from './user-memories.js'

/** Who started something. */
export interface Caller {
  userId: string | null
  name?: string
  email?: string
}

/** A session (thread): a conversation that runs belong to. */
export interface Session {
  id: string
  orgId: string
  userId: string | null
  /** `team` or `workflow` for a session made for a team's or a workflow's run, else `agent`. */
  type: 'agent' | 'team' | 'workflow'
  /** The default agent (`key` or `key@version`) of the session's runs. */
  agent: string | null
  title: string | null
  metadata: JsonObject
  /** A JSON object tools may read and write (`ctx.state`). */
  state: JsonObject
  createdBy: Caller | null
  /**
   * The run that holds the session: the one running or waiting for input
   * (null when none does). The store sets it in the commit that moves a run
   * to `running` or `waiting_for_input`, and clears it in the one that ends
   * the run; a new session has none.
   */
  activeRunId: string | null
  /** The summary of the session's older runs its agents' `summarize` context strategy wrote last (`context.summarized`); null when none has. */
  contextSummary: ContextSummary | null
  createdAt: string
  updatedAt: string
}

/** The six statuses of a run. */
export type RunStatus = 'queued' | 'running' | 'waiting_for_input' | 'completed' | 'failed' | 'cancelled'

/** All run statuses, in lifecycle order. */
export const runStatuses: readonly RunStatus[] = ['queued', 'running', 'waiting_for_input', 'completed', 'failed', 'cancelled']

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminalStatus(status: RunStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/** Why a run failed: a code, a message, and for some codes (`run.limit_exceeded`) details. */
export interface RunErrorInfo {
  code: ErrorCode
  message: string
  /** `run.limit_exceeded`: `{ limit, max, used }`, the limit crossed. */
  details?: JsonObject
}

/** Bounds on one run; crossing one fails it with `run.limit_exceeded`, keeping its partial content. */
export interface RunLimits {
  /** Milliseconds of execution: not counting time queued, waiting for a person, or down after a crash. */
  maxDurationMs?: number
  /** Input plus output tokens over the run's turns, checked after each turn. */
  maxTotalTokens?: number
  /** The run's cost in USD, checked after each turn. */
  maxCostUsd?: number
}

/** Token and timing figures of a run. */
export interface RunMetrics {
  inputTokens: number
  outputTokens: number
  totalTokens: number
  cachedInputTokens: number
  reasoningTokens: number
  timeToFirstTokenMs: number | null
  durationMs: number | null
}

/**
 * A run: one execution of the agent loop on a session. `Output` is the type
 * of `output`, known when the run was started with a typed agent.
 */
export interface Run<Output = unknown> {
  id: string
  sessionId: string
  orgId: string
  traceId: string
  /** The resolved agent, `key@version`. */
  personaId: string
  routeId: string
  model: string
  modelProvider: string
  status: RunStatus
  /**
   * The user's message. For a run started without `input`, the contents of
   * the thread messages it answers, joined by a blank line, once it started
   * ('' while queued).
   */
  input: string
  /**
   * The ids of the thread messages the run answers, oldest first, taken when
   * it started (`[]` while it is queued); null for a run given `input`.
   */
  messageIds: string[] | null
  content: string | null
  /**
   * The final answer parsed, for an agent with an `outputSchema`: the
   * validated value (as JSON) once the run completed; null otherwise.
   */
  output: Output | null
  reasoningContent: string | null
  /** The run's own messages (system, user, assistant, tool); history is not copied. */
  messages: Message[]
  metrics: RunMetrics
  totalCostUsd: number
  cacheHitRate: number
  creditsUsed: number
  error: RunErrorInfo | null
  /** The limits the run executes under (its agent's, with the run's own over them); null for none. */
  limits: RunLimits | null
  /** The open requests while `waiting_for_input`, else `[]`. */
  pendingInput: InputRequest[]
  createdBy: Caller | null
  /** The seq of the run's last committed event (0 before the first). */
  lastSeq: number
  /** The run that started this one as a child (an agent called as a tool, a team's member); null for a top-level run. */
  parentRunId: string | null
  /** The top-level run of its tree: its own id for a top-level run. */
  rootRunId: string
  /** How deep it is in its tree: 0 for a top-level run, its parent's depth + 1 for a child. */
  depth: number
  /** The parent's tool call that started it; null for a top-level run. A parent has at most one child per tool call. */
  parentToolCallId: string | null
  createdAt: string
  startedAt: string | null
  completedAt: string | null
  failedAt: string | null
  cancelledAt: string | null
}

/** A message a user sent to a thread (Arkloop's flow: the thread holds the message, a run answers it). */
export interface ThreadMessage {
  /** `msg_...`. */
  id: string
  sessionId: string
  role: 'user'
  content: string
  /** The run that took the message when it started; null while it is unanswered. */
  runId: string | null
  createdAt: string
}

/** A page of a session's messages, newest first unless `order` says otherwise. */
export interface MessageQuery {
  sessionId: string
  /** Only messages no run has taken (`runId` null). @default false */
  unanswered?: boolean
  limit: number
  /** Only messages older than this message id (with `order: 'asc'`, newer). */
  before?: string
  /** @default 'desc' */
  order?: 'asc' | 'desc'
}

/** The fields of a run that `commit` may change. */
export type RunPatch = Partial<Omit<Run, 'id' | 'sessionId' | 'orgId' | 'createdAt' | 'lastSeq' | 'parentRunId' | 'rootRunId' | 'depth' | 'parentToolCallId'>>

/** The fields a run patch may not set: they identify the run and its place in its tree, or belong to `commit`'s seq check. */
export const fixedRunFields: ReadonlySet<string> = new Set(['id', 'sessionId', 'orgId', 'createdAt', 'lastSeq', 'parentRunId', 'rootRunId', 'depth', 'parentToolCallId'])

/** The fields of a session that `updateSession` may change. */
export type SessionPatch = Partial<Pick<Session, 'title' | 'metadata' | 'state' | 'agent'>> & { updatedAt: string }

/** A page of sessions, newest first. */
export interface SessionQuery {
  orgId: string
  userId?: string
  /** Items per page. */
  limit: number
  /** Only sessions older than this session id. */
  before?: string
}

/** A page of runs, newest first unless `order` says otherwise. */
export interface RunQuery {
  orgId?: string
  sessionId?: string
  /** Only the children of this run. */
  parentRunId?: string
  /** Only top-level runs (no `parentRunId`): a session's own turns, without child runs. @default false */
  topLevel?: boolean
  statuses?: readonly RunStatus[]
  limit: number
  /** Only runs older than this run id (with `order: 'asc'`, newer). */
  before?: string
  /** @default 'desc' */
  order?: 'asc' | 'desc'
}

/** One atomic write: all of it commits, or none of it. */
export interface Commit {
  /**
   * A new run to insert (its `lastSeq` must be 0). A child run (with
   * `parentRunId`) whose parent already has a child for the same
   * `parentToolCallId` fails with `storage.conflict`
   * (`details.reason: 'child_exists'`, `details.child_run_id`), writing
   * nothing: a child is created once per tool call, even across a crash.
   */
  insertRun?: Run
  /**
   * A patch to an existing run (or to `insertRun`): its defined fields are
   * set, a field set to `undefined` is left as it is, and a patch that sets
   * `id`, `sessionId`, `orgId`, `createdAt` or `lastSeq` fails with
   * `storage.failed`.
   */
  run?: { id: string; patch: RunPatch }
  /**
   * Events to append, all of one run, in seq order. The first must carry the
   * run's `lastSeq + 1` and the rest follow densely; otherwise another writer
   * got there first, and the commit fails with `storage.conflict` and writes
   * nothing. The run's `lastSeq` advances.
   */
  events?: readonly RunEvent[]
  /** The session state tools wrote during the step. */
  sessionState?: { sessionId: string; state: JsonObject; updatedAt: string }
  /** A summary the run wrote (`context.summarized`): it replaces the session's `contextSummary`. */
  contextSummary?: { sessionId: string; summary: ContextSummary }
  /**
   * Thread messages the run takes: each gets `runId`. Every one must be a
   * message of the run's session (else `storage.failed`) that no run has
   * taken yet: otherwise another run got there first, and the commit fails
   * with `storage.conflict`. A failed commit writes nothing.
   */
  answerMessages?: { runId: string; messageIds: readonly string[] }
  /**
   * The owner writing. With `insertRun`, the new run's owner (none: any
   * executing runtime may claim it). Otherwise the commit fails with
   * `storage.conflict`, writing nothing, unless the run is owned by this owner:
   * a process whose runs were claimed by another can no longer write to them.
   */
  ownerId?: string
  /**
   * Accepted control requests this commit applies or refuses. Each must be
   * `accepted` (else `storage.conflict`, writing nothing); it becomes
   * `applied` or `refused` in the same transaction as the commit's events.
   */
  settleControls?: readonly ControlSettlement[]
  /**
   * With a patch that ends a top-level run holding its session: the next run
   * of the session to hold it, in place of freeing it (a runtime passes it to
   * the next run of its own queue, which then needs no claim ahead of its
   * start). The session passes only to a queued top-level run of the same
   * session with no older run of the session queued; otherwise it is freed
   * as usual. The store then sets `sessionPassed`.
   */
  passSessionTo?: string
  /** Set by the store on a commit with `passSessionTo` once it landed: true when the session passed, false when it was freed. */
  sessionPassed?: boolean
  /** User memories the run wrote (`memory.update_completed`), committed with its events (see {@link MemoryWrites}). */
  memoryWrites?: MemoryWrites
}

/** What a control request asks of a run. */
export type ControlAction =
  | { kind: 'cancel'; reason: string }
  | { kind: 'input'; content: string; approved?: boolean; toolCallId?: string }

/**
 * Where a control request stands: `pending` (recorded), `accepted` (the
 * run's owner is applying it: no longer withdrawn), then `applied` or
 * `refused` (with `error`), or `withdrawn` by its requester before anyone
 * accepted it.
 */
export type ControlStatus = 'pending' | 'accepted' | 'applied' | 'refused' | 'withdrawn'

/**
 * A cancel or an input for a run, recorded by any runtime on the store and
 * applied exactly once by the run's owner (or by whoever recovers the run):
 * its event and the request's settlement commit together.
 */
export interface ControlRequest {
  /** `ctl_...`. */
  id: string
  runId: string
  action: ControlAction
  status: ControlStatus
  /** Why it was refused (`state.invalid`, `validation.invalid`); null otherwise. */
  error: { code: ErrorCode; message: string } | null
  createdAt: string
  /** When it was applied, refused or withdrawn; null before. */
  settledAt: string | null
}

/** The settlement of an accepted control request, written with the commit that applies (or refuses) it. */
export interface ControlSettlement {
  id: string
  status: 'applied' | 'refused'
  /** Why it was refused. */
  error?: { code: ErrorCode; message: string }
  settledAt: string
}

/** A process that executes runs on a store. */
export interface Owner {
  id: string
  pid: number
  host: string
  startedAt: string
  /** The last sign of life. */
  heartbeatAt: string
}

/** Storage for sessions, runs and their event logs. */
export interface Store {
  /** The store's id (`db_id` of the Agno view). */
  readonly id: string
  /** Opens the store (creates or migrates it). Errors are `StorageError`s. */
  open(): Promise<void>
  /** Waits for pending writes, then closes. */
  close(): Promise<void>

  insertSession(session: Session): Promise<void>
  getSession(id: string): Promise<Session | undefined>
  listSessions(query: SessionQuery): Promise<Session[]>
  /** Returns the updated session, or undefined when there is none. */
  updateSession(id: string, patch: SessionPatch): Promise<Session | undefined>
  /** Deletes a session with its runs and their events. Returns false when there was none. */
  deleteSession(id: string): Promise<boolean>

  getRun(id: string): Promise<Run | undefined>
  listRuns(query: RunQuery): Promise<Run[]>

  /**
   * Applies one atomic write. A patch that moves a run to `running` or
   * `waiting_for_input` claims its session in the same transaction: it fails
   * with `storage.conflict` (`details.reason: 'session_busy'`, writing
   * nothing) when another run holds the session or an older run of the
   * session is queued; one that ends the run frees the session. A child run
   * (with `parentRunId`) belongs to its parent's hold: its status changes
   * neither claim nor free the session, and a queued child never keeps a
   * younger run from claiming it.
   */
  commit(commit: Commit): Promise<void>
  /** A run's events with `seq > afterSeq`, in order, at most `limit`. */
  readEvents(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]>

  /** Adds a message to its session; a missing session or a duplicate id fails with `storage.failed`. */
  insertMessage(message: ThreadMessage): Promise<void>
  /** A message, or undefined. */
  getMessage(id: string): Promise<ThreadMessage | undefined>
  /** A page of a session's messages (deleted with the session). */
  listMessages(query: MessageQuery): Promise<ThreadMessage[]>

  // Optional: sharing one store between processes. Without these, a runtime
  // assumes it is the only one executing runs on the store.

  /**
   * Whether an owner on this host whose process is gone counts as dead at
   * once (true: the processes sharing the store share this machine's
   * process table, as with a SQLite file), or only once its lease has run
   * out (false: owners may run on other machines, or in containers whose
   * pids mean nothing here, as with PostgreSQL).
   * @default true
   */
  readonly pidChecks?: boolean
  /** Records an executing process. */
  registerOwner?(owner: Owner): Promise<void>
  /** Updates an owner's `heartbeatAt`. Returns false when the owner is gone (removed by another process). */
  heartbeat?(ownerId: string, at: string): Promise<boolean>
  listOwners?(): Promise<Owner[]>
  /** Removes an owner; its runs stay, owned by no one until claimed. */
  removeOwner?(ownerId: string): Promise<void>
  /**
   * Atomically gives `ownerId` every non-terminal run that has no owner, whose
   * owner is not registered (removed), or whose owner is in `fromOwners`, and
   * removes those owners. Returns the ids of the runs claimed, oldest first.
   * Two callers never claim the same run.
   */
  claimRuns?(ownerId: string, fromOwners: readonly string[]): Promise<string[]>
  /** The owner of a run, or null. */
  getRunOwner?(runId: string): Promise<string | null>
  /**
   * Makes `runId` (queued or active) the holder of its session when no other
   * run holds it and no older run of the session is queued, before the run
   * starts. True when the run holds the session now (also when it already
   * did); false, writing nothing, otherwise. For an unfinished child run:
   * true, writing nothing (it runs under its parent's hold).
   */
  claimSession?(runId: string): Promise<boolean>

  // Control requests, with the ownership methods above: cancel and input
  // from any runtime on the store, applied by the run's owner.

  /** Records a pending request. False, recording nothing, when the run does not exist or has ended. */
  insertControl?(request: ControlRequest): Promise<boolean>
  /** A request with its current status, or undefined. */
  getControl?(id: string): Promise<ControlRequest | undefined>
  /** The `pending` and `accepted` requests of the runs `ownerId` owns, oldest first. */
  pendingControls?(ownerId: string): Promise<ControlRequest[]>
  /**
   * Moves a `pending` request to `accepted` (its run's owner is applying it)
   * or `withdrawn` (its requester gave up). False, writing nothing, when it
   * is no longer pending.
   */
  markControl?(id: string, status: 'accepted' | 'withdrawn', at: string): Promise<boolean>

  /**
   * Deletes at most `limit` finished runs (completed, failed, cancelled) that
   * ended before `finishedBefore`, with their events. Returns how many.
   */
  pruneRuns?(finishedBefore: string, limit: number): Promise<number>

  // Optional: user memories. A runtime whose agents use `memory` needs them;
  // every built-in store has them. Each names the memories' org and user,
  // and never reads or writes another user's.

  /** Adds a memory; a duplicate id fails with `storage.failed`. */
  insertMemory?(memory: UserMemory): Promise<void>
  /** The user's memory with this id, or undefined (also when it is another user's). */
  getMemory?(owner: MemoryOwner, id: string): Promise<UserMemory | undefined>
  /** A page of the user's memories and how many match. */
  listMemories?(query: MemoryQuery): Promise<MemoryPage>
  /** Changes the user's memory; undefined when the user has none with this id. */
  updateMemory?(owner: MemoryOwner, id: string, patch: MemoryPatch): Promise<UserMemory | undefined>
  /** Deletes those of the ids that are the user's memories. Returns how many. */
  deleteMemories?(owner: MemoryOwner, ids: readonly string[]): Promise<number>
  /** The topics of the user's memories, sorted. */
  memoryTopics?(owner: MemoryOwner): Promise<string[]>

  /**
   * Calls `listener` when another process (or connection) may have changed
   * the store, so readers can look again: with the ids of the runs whose
   * logs changed when the store knows them and nothing else changed (with
   * `freed` true when some of those runs ended, so their sessions may be
   * free), else with none (anything may have changed). Returns the function
   * that stops watching. Stores that only one process can use may never call it.
   */
  watch?(listener: (runIds?: readonly string[], freed?: boolean) => void): () => void
}
