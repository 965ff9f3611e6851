/**
 * Applies one `Commit` on a connection inside the caller's transaction (or
 * savepoint), statement by statement: the path of commits that do more than
 * append events (a new run, a status change, session state, messages,
 * control settlements). It throws on the first problem and leaves the cleanup
 * to the caller's rollback, so a failed commit writes nothing. Event-only
 * commits, the bulk of a busy store, take the batched path of
 * `group-commit.ts` instead; both check seqs, sessions and owners alike.
 */
import { childExistsError, StorageError, sessionBusyError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import { isTerminalStatus, type Commit, type Run, type RunPatch, type RunStatus } from '../../src/store.js'
import { endedAtOf, runDetailValues, runPatchColumns, runsValues } from '../sql/records.js'
import type { PgQueryable } from './pg-types.js'
import { writeMemories } from './memories.js'
import { pgCodeOf } from './storage-errors.js'
import type { SessionStep, Statements } from './statements.js'

/**
 * Checks that `events` all belong to `runId` and follow each other densely
 * from the first; throws otherwise. Needs no database.
 */
export function checkEventOrder(runId: string, events: readonly RunEvent[]): void {
  const first = (events[0] as RunEvent).seq
  for (let index = 0; index < events.length; index++) {
    const event = events[index] as RunEvent
    if (event.runId !== runId) throw new StorageError('storage.failed', `All events of a commit must belong to one run (${runId}), got one of ${event.runId}`)
    if (event.seq !== first + index || !Number.isInteger(event.seq)) {
      throw new StorageError('storage.conflict', `Event seq ${event.seq} of run ${runId} does not follow seq ${first + index - 1}`)
    }
  }
}

/**
 * Why a seq advance from `first - 1` found no row to update, read off the
 * hot path: the run is missing, owned by another, of another session, or
 * ahead of the events.
 */
export async function seqRefusal(client: PgQueryable, sql: Statements, runId: string, events: readonly RunEvent[], fence: string | undefined): Promise<StorageError> {
  const row = (await client.query<{ last_seq: number; owner_id: string | null; session_id: string }>(sql.getSeqAndOwner, [runId])).rows[0]
  if (row === undefined) return missingRun(runId)
  if (fence !== undefined && row.owner_id !== fence) return notOwner(runId, row.owner_id, fence)
  const first = (events[0] as RunEvent).seq
  if (row.last_seq !== first - 1) return new StorageError('storage.conflict', `Event seq ${first} of run ${runId} is not the next one (${row.last_seq + 1})`)
  const stray = events.find((event) => event.sessionId !== row.session_id) as RunEvent
  return new StorageError('storage.failed', `Event seq ${stray.seq} of run ${runId} names session ${stray.sessionId}, but the run belongs to ${row.session_id}`)
}

/**
 * Writes `commit` with `client`; throws a `StorageError` (or a `pg` error)
 * when it cannot. With `deferred`, its events are added there for the
 * caller to insert with others later in the same transaction, instead of
 * inserted now.
 */
export async function applyCommit(client: PgQueryable, sql: Statements, commit: Commit, deferred?: EventColumns): Promise<void> {
  const inserted = commit.insertRun
  const events = commit.events
  // A run inserted with its first events (most runs) is inserted with its last seq: no seq advance to make.
  const fresh = inserted !== undefined && events !== undefined && events.length > 0 && (events[0] as RunEvent).runId === inserted.id
  if (fresh) checkFreshEvents(inserted, events)
  if (inserted !== undefined) await insertRun(client, sql, inserted, commit.ownerId, fresh ? (events as readonly RunEvent[]).length : 0)
  const runId = commit.run?.id ?? events?.[0]?.runId ?? inserted?.id
  // With insertRun, ownerId names the new run's owner; otherwise it fences the writes to the run.
  const fence = inserted === undefined ? commit.ownerId : undefined
  let sessionId: string | undefined
  const run = commit.run
  // A status change with its events (a run starting or ending): the seq advance, the patch and the session's claim or
  // release in one statement. The rest, field by field.
  let merged: Merged | undefined
  if (fresh) sessionId = (inserted as Run).sessionId
  else if (events !== undefined && events.length > 0) {
    merged = run !== undefined && run.id === runId && inserted === undefined ? await advanceSeqAndPatch(client, sql, run.id, events, fence, run.patch, commit.passSessionTo) : undefined
    if (merged?.session === 'pass') commit.sessionPassed = merged.passed
    sessionId = merged?.sessionId ?? (await advanceSeq(client, sql, runId as string, events, fence))
  } else if (fence !== undefined && runId !== undefined) await checkOwner(client, sql, runId, fence)
  if (run !== undefined) {
    if (merged === undefined) await patchRun(client, sql, run.id, run.patch)
    const { status, startedAt } = run.patch
    const starts = startedAt !== undefined && startedAt !== null
    if (merged !== undefined && merged.session === 'claim' && !merged.claimed && !merged.child) {
      // Not claimed: held by this run already (fine), or by another run, or an older run is queued.
      const blocker = await sessionBlocker(client, sql, run.id, merged.sessionId)
      if (blocker !== undefined) throw sessionBusyError(merged.sessionId, run.id, blocker)
    } else if (merged?.session !== 'release' && merged?.session !== 'pass' && merged?.session !== 'claim' && (status !== undefined || starts)) {
      const session =
        sessionId !== undefined && run.id === runId
          ? sessionId
          : run.id === inserted?.id
            ? inserted.sessionId
            : ((await client.query<{ session_id: string }>(sql.getRunSession, [run.id])).rows[0]?.session_id as string)
      // A child run belongs to its parent's hold on the session: it neither claims nor frees it.
      const child = run.id === inserted?.id ? inserted.parentRunId !== null : ((await client.query<{ parent_run_id: string | null }>(sql.getParentRunId, [run.id])).rows[0]?.parent_run_id ?? null) !== null
      if (!child) {
        const passed = await afterStatus(client, sql, run.id, session, status, starts, commit.passSessionTo)
        if (passed !== undefined) commit.sessionPassed = passed
      }
    }
  }
  if (sessionId !== undefined) await insertEvents(client, sql, runId as string, sessionId, events as readonly RunEvent[], deferred)
  const sessionState = commit.sessionState
  if (sessionState !== undefined) {
    const { rowCount } = await client.query(sql.updateSessionState, [JSON.stringify(sessionState.state), sessionState.updatedAt, sessionState.sessionId])
    if (rowCount === 0) throw new StorageError('storage.failed', `Session ${sessionState.sessionId} does not exist`)
  }
  const summary = commit.contextSummary
  if (summary !== undefined && (await client.query(sql.updateContextSummary, [JSON.stringify(summary.summary), summary.sessionId])).rowCount === 0) {
    throw new StorageError('storage.failed', `Session ${summary.sessionId} does not exist`)
  }
  if (commit.answerMessages !== undefined) await answerMessages(client, sql, commit.answerMessages)
  if (commit.settleControls !== undefined) {
    for (const settlement of commit.settleControls) {
      const error = settlement.error === undefined ? null : JSON.stringify({ code: settlement.error.code, message: settlement.error.message })
      if ((await client.query(sql.settleControl, [settlement.status, error, settlement.settledAt, settlement.id])).rowCount === 1) continue
      const status = (await client.query<{ status: string }>(sql.controlStatus, [settlement.id])).rows[0]?.status
      if (status === undefined) throw new StorageError('storage.failed', `Control request ${settlement.id} does not exist`)
      throw new StorageError('storage.conflict', `Control request ${settlement.id} is ${status}, not accepted`)
    }
  }
  if (commit.memoryWrites !== undefined) await writeMemories(client, sql.memories, commit.memoryWrites)
}

/**
 * After a run's patch: claims or frees its session as the new `status` says
 * (see the SQLite store's `session-claims.ts`, which this mirrors). Throws
 * the session-busy conflict.
 */
async function afterStatus(client: PgQueryable, sql: Statements, runId: string, sessionId: string, status: RunStatus | undefined, starts: boolean, passTo?: string): Promise<boolean | undefined> {
  if (status === 'running' || status === 'waiting_for_input') {
    const blocker = await takeSession(client, sql, runId, sessionId)
    if (blocker !== undefined) throw sessionBusyError(sessionId, runId, blocker)
    return undefined
  }
  const blocker = starts ? await sessionBlocker(client, sql, runId, sessionId) : undefined
  if (blocker !== undefined) throw sessionBusyError(sessionId, runId, blocker)
  if (status === undefined || !isTerminalStatus(status)) return undefined
  const released = (await client.query(sql.releaseSession, [sessionId, runId])).rowCount === 1
  if (passTo === undefined) return undefined
  return released && (await client.query(sql.passSession, [passTo, sessionId])).rowCount === 1
}

/** Takes the session for the run; returns the run in the way, or undefined when the run holds it now. */
async function takeSession(client: PgQueryable, sql: Statements, runId: string, sessionId: string): Promise<string | undefined> {
  if ((await client.query(sql.claimSession, [runId, sessionId])).rowCount === 1) return undefined
  return sessionBlocker(client, sql, runId, sessionId)
}

/** The run that holds the session (other than `runId`), else the oldest queued run of the session older than `runId`. */
async function sessionBlocker(client: PgQueryable, sql: Statements, runId: string, sessionId: string): Promise<string | undefined> {
  const holder = (await client.query<{ active_run_id: string | null }>(sql.sessionHolder, [sessionId])).rows[0]?.active_run_id
  if (holder !== null && holder !== undefined) return holder === runId ? undefined : holder
  return (await client.query<{ id: string }>(sql.olderQueued, [sessionId, runId])).rows[0]?.id
}

async function answerMessages(client: PgQueryable, sql: Statements, { runId, messageIds }: NonNullable<Commit['answerMessages']>): Promise<void> {
  if (new Set(messageIds).size !== messageIds.length) throw new StorageError('storage.failed', 'A message is named twice in `answerMessages`')
  for (const id of messageIds) {
    if ((await client.query(sql.answerMessage, [runId, id])).rowCount === 1) continue
    const sessionId = (await client.query<{ session_id: string }>(sql.getRunSession, [runId])).rows[0]?.session_id
    if (sessionId === undefined) throw missingRun(runId)
    const message = (await client.query<{ session_id: string; run_id: string | null }>(sql.getMessageOwner, [id])).rows[0]
    if (message === undefined || message.session_id !== sessionId) {
      throw new StorageError('storage.failed', `Message ${id} is not a message of session ${sessionId}`)
    }
    throw new StorageError('storage.conflict', `Message ${id} was already taken by run ${String(message.run_id)}`)
  }
}

/** The first events of a run inserted in the same commit: dense from seq 1, all of that run and its session. */
function checkFreshEvents(run: Run, events: readonly RunEvent[]): void {
  checkEventOrder(run.id, events)
  const first = (events[0] as RunEvent).seq
  if (first !== 1) throw new StorageError('storage.conflict', `Event seq ${first} of run ${run.id} is not the next one (1)`)
  const stray = events.find((event) => event.sessionId !== run.sessionId)
  if (stray !== undefined) throw new StorageError('storage.failed', `Event seq ${stray.seq} of run ${run.id} names session ${stray.sessionId}, but the run belongs to ${run.sessionId}`)
}

/** Inserts a run with its details in one statement, its `last_seq` at `lastSeq` (the events inserted with it). */
async function insertRun(client: PgQueryable, sql: Statements, run: Run, ownerId: string | undefined, lastSeq: number): Promise<void> {
  if (run.lastSeq !== 0) throw new StorageError('storage.failed', `A new run must have lastSeq 0, run ${run.id} has ${run.lastSeq}`)
  if (run.parentRunId !== null && run.parentToolCallId !== null) {
    // A look first (child inserts only): a failed INSERT would abort the transaction, and the existing child could not be named.
    const existing = (await client.query<{ run_id: string }>(sql.getChild, [run.parentRunId, run.parentToolCallId])).rows[0]?.run_id
    if (existing !== undefined) throw childExistsError(run.parentRunId, run.parentToolCallId, existing)
  }
  try {
    await client.query(sql.insertRunWithDetails, [...runsValues(lastSeq === 0 ? run : { ...run, lastSeq }), ownerId ?? null, endedAtOf(run), ...runDetailValues(run, true)])
  } catch (error) {
    const code = pgCodeOf(error)
    if (code === '23505' && (error as { constraint?: unknown }).constraint === 'run_children') {
      // Another process inserted the same child between the look above and this insert: the transaction is aborted, so its id
      // cannot be read here; the caller reads the child.
      throw new StorageError('storage.conflict', `Run ${String(run.parentRunId)} already has a child for tool call ${String(run.parentToolCallId)}`, {
        cause: error,
        details: { reason: 'child_exists' },
      })
    }
    if (code === '23505') throw new StorageError('storage.failed', `Run ${run.id} already exists`, { cause: error })
    if (code === '23503') throw new StorageError('storage.failed', `Session ${run.sessionId} of run ${run.id} does not exist`, { cause: error })
    throw error
  }
}

async function patchRun(client: PgQueryable, sql: Statements, runId: string, patch: RunPatch): Promise<void> {
  const { key, runsValues, detailValues } = runPatchColumns(patch, true)
  if (key === '') {
    if ((await client.query(sql.getRunSession, [runId])).rowCount === 0) throw missingRun(runId)
    return
  }
  const statements = sql.runPatch(key)
  if (statements.runs !== undefined && (await client.query(statements.runs, [...runsValues, runId])).rowCount === 0) throw missingRun(runId)
  if (statements.details !== undefined && (await client.query(statements.details, [...detailValues, runId])).rowCount === 0) throw missingRun(runId)
}

/** What {@link advanceSeqAndPatch} did. */
interface Merged {
  sessionId: string
  /** What it did to the session: claimed it (or tried: `claimed`), freed it, or nothing (left to `afterStatus`). */
  session: SessionStep
  claimed: boolean
  /** The run is a child run (it leaves the session alone). */
  child: boolean
  /** With 'pass': the session passed to the next run (else it was freed). */
  passed: boolean
}

/**
 * The seq advance, the whole of `patch` and, for a run that starts running
 * or waiting, the session's claim (for one that ends, its release), in one
 * statement. Undefined (having written nothing) when the patch sets nothing.
 */
async function advanceSeqAndPatch(
  client: PgQueryable,
  sql: Statements,
  runId: string,
  events: readonly RunEvent[],
  fence: string | undefined,
  patch: RunPatch,
  passTo: string | undefined,
): Promise<Merged | undefined> {
  const { key, runsValues, detailValues } = runPatchColumns(patch, true)
  if (key === '') return undefined
  checkEventOrder(runId, events)
  const { status, startedAt } = patch
  const ends = status !== undefined && isTerminalStatus(status) && (startedAt === undefined || startedAt === null)
  const session: SessionStep = status === 'running' || status === 'waiting_for_input' ? 'claim' : ends ? (passTo === undefined ? 'release' : 'pass') : 'none'
  const first = (events[0] as RunEvent).seq
  const values = [...runsValues, runId, first - 1 + events.length, first - 1, fence ?? null, ...detailValues]
  if (session === 'pass') values.push(passTo)
  const row = (await client.query<{ session_id: string; claimed: number; child: boolean; passed: number }>(sql.advanceSeqAndPatch(key, session), values)).rows[0]
  if (row === undefined) throw await seqRefusal(client, sql, runId, events, fence)
  return { sessionId: row.session_id, session, claimed: row.claimed === 1, child: row.child, passed: row.passed === 1 }
}

async function advanceSeq(client: PgQueryable, sql: Statements, runId: string, events: readonly RunEvent[], fence: string | undefined): Promise<string> {
  checkEventOrder(runId, events)
  const first = (events[0] as RunEvent).seq
  const row = (await client.query<{ session_id: string }>(sql.advanceSeq, [first - 1 + events.length, runId, first - 1, fence ?? null])).rows[0]
  if (row !== undefined) return row.session_id
  throw await seqRefusal(client, sql, runId, events, fence)
}

async function checkOwner(client: PgQueryable, sql: Statements, runId: string, fence: string): Promise<void> {
  const row = (await client.query<{ owner_id: string | null }>(sql.runOwner, [runId])).rows[0]
  if (row === undefined) throw missingRun(runId)
  if (row.owner_id !== fence) throw notOwner(runId, row.owner_id, fence)
}

/** The columns of `events` as arrays, for one `unnest` insert. */
export interface EventColumns {
  runIds: string[]
  seqs: number[]
  types: string[]
  data: string[]
  times: string[]
}

/** Empty event columns. */
export function eventColumns(): EventColumns {
  return { runIds: [], seqs: [], types: [], data: [], times: [] }
}

/** Adds `events` to `columns`. */
export function addEvents(columns: EventColumns, runId: string, events: readonly RunEvent[]): void {
  for (const event of events) {
    columns.runIds.push(runId)
    columns.seqs.push(event.seq)
    columns.types.push(event.type)
    columns.data.push(JSON.stringify(event.data))
    columns.times.push(event.createdAt)
  }
}

async function insertEvents(client: PgQueryable, sql: Statements, runId: string, sessionId: string, events: readonly RunEvent[], deferred: EventColumns | undefined): Promise<void> {
  const stray = events.find((event) => event.sessionId !== sessionId)
  if (stray !== undefined) {
    throw new StorageError('storage.failed', `Event seq ${stray.seq} of run ${runId} names session ${stray.sessionId}, but the run belongs to ${sessionId}`)
  }
  if (deferred !== undefined) {
    addEvents(deferred, runId, events)
    return
  }
  const columns = eventColumns()
  addEvents(columns, runId, events)
  await client.query(sql.insertEvents, [columns.runIds, columns.seqs, columns.types, columns.data, columns.times])
}

function notOwner(runId: string, owner: string | null, writer: string): StorageError {
  const holder = owner === null ? 'no owner' : `owner ${owner}`
  return new StorageError('storage.conflict', `Run ${runId} has ${holder}, not ${writer}: another process claimed it, so ${writer} can no longer write to it`)
}

function missingRun(runId: string): StorageError {
  return new StorageError('storage.failed', `Run ${runId} does not exist`)
}
