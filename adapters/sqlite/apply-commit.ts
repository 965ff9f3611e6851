/**
 * Applies one `Commit` inside the caller's transaction or savepoint. It
 * throws on the first problem and leaves the cleanup to the caller's
 * rollback, so a failed commit writes nothing. This runs for every event of
 * every run: it does no reads on the way to success beyond the one the seq
 * check returns, and the owner fence of `Commit.ownerId` rides on that same
 * statement (only a commit without events pays a read for it).
 */
import { childExistsError, StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import type { Commit, Run, RunPatch } from '../../src/store.js'
import { endedAtOf, runDetailValues, runPatchColumns, runsValues } from '../sql/records.js'
import { sqliteCodeOf } from './storage-errors.js'
import { eventsPerInsert, type Statements } from './statements.js'

/** Writes `commit`; throws a `StorageError` (or a SQLite error) when it cannot. */
export function applyCommit(statements: Statements, commit: Commit): void {
  const inserted = commit.insertRun
  if (inserted !== undefined) insertRun(statements, inserted, commit.ownerId)
  const events = commit.events
  const runId = commit.run?.id ?? events?.[0]?.runId ?? inserted?.id
  // With insertRun, ownerId names the new run's owner; otherwise it fences the writes to the run.
  const fence = inserted === undefined ? commit.ownerId : undefined
  let sessionId: string | undefined
  if (events !== undefined && events.length > 0) sessionId = advanceSeq(statements, runId as string, events, fence)
  else if (fence !== undefined && runId !== undefined) checkOwner(statements, runId, fence)
  const run = commit.run
  if (run !== undefined) {
    patchRun(statements, run.id, run.patch)
    const { status, startedAt } = run.patch
    const starts = startedAt !== undefined && startedAt !== null
    // A child run belongs to its parent's hold on the session: its status changes neither claim nor free it.
    const child = run.id === inserted?.id ? inserted.parentRunId !== null : (status !== undefined || starts) && statements.getParentRunId.get(run.id) !== null
    if ((status !== undefined || starts) && !child) {
      const session = sessionId !== undefined && run.id === runId ? sessionId : run.id === inserted?.id ? inserted.sessionId : (statements.getRunSession.get(run.id) as string)
      const passed = statements.claims.afterStatus(run.id, session, status, starts, commit.passSessionTo)
      if (passed !== undefined) commit.sessionPassed = passed
    }
  }
  if (sessionId !== undefined) insertEvents(statements, runId as string, sessionId, events as readonly RunEvent[])
  const sessionState = commit.sessionState
  if (sessionState !== undefined) {
    const { changes } = statements.updateSessionState.run(JSON.stringify(sessionState.state), sessionState.updatedAt, sessionState.sessionId)
    if (changes === 0) throw new StorageError('storage.failed', `Session ${sessionState.sessionId} does not exist`)
  }
  const summary = commit.contextSummary
  if (summary !== undefined && statements.updateContextSummary.run(JSON.stringify(summary.summary), summary.sessionId).changes === 0) {
    throw new StorageError('storage.failed', `Session ${summary.sessionId} does not exist`)
  }
  if (commit.answerMessages !== undefined) answerMessages(statements, commit.answerMessages)
  if (commit.settleControls !== undefined) statements.controls.settle(commit.settleControls)
  if (commit.memoryWrites !== undefined) statements.memories.write(commit.memoryWrites)
}

/** Gives each message to the run; a message taken already (by another run, another process) is `storage.conflict`. */
function answerMessages(statements: Statements, { runId, messageIds }: NonNullable<Commit['answerMessages']>): void {
  if (new Set(messageIds).size !== messageIds.length) throw new StorageError('storage.failed', 'A message is named twice in `answerMessages`')
  for (const id of messageIds) {
    if (statements.answerMessage.run(runId, id, runId).changes === 1) continue
    // Off the path to success: one read of each to say why.
    const sessionId = statements.getRunSession.get(runId) as string | undefined
    if (sessionId === undefined) throw missingRun(runId)
    const message = statements.getMessageOwner.get(id) as { session_id: string; run_id: string | null } | undefined
    if (message === undefined || message.session_id !== sessionId) {
      throw new StorageError('storage.failed', `Message ${id} is not a message of session ${sessionId}`)
    }
    throw new StorageError('storage.conflict', `Message ${id} was already taken by run ${String(message.run_id)}`)
  }
}

function insertRun(statements: Statements, run: Run, ownerId: string | undefined): void {
  if (run.lastSeq !== 0) throw new StorageError('storage.failed', `A new run must have lastSeq 0, run ${run.id} has ${run.lastSeq}`)
  try {
    statements.insertRun.run(...runsValues(run), ownerId ?? null, endedAtOf(run))
    statements.insertRunDetails.run(...runDetailValues(run))
  } catch (error) {
    const code = sqliteCodeOf(error)
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StorageError('storage.failed', `Run ${run.id} already exists`, { cause: error })
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' && run.parentRunId !== null) {
      const existing = statements.getChild.get(run.parentRunId, run.parentToolCallId) as string | undefined
      if (existing !== undefined) throw childExistsError(run.parentRunId, run.parentToolCallId, existing)
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StorageError('storage.failed', `Session ${run.sessionId} of run ${run.id} does not exist`, { cause: error })
    throw error
  }
}

function patchRun(statements: Statements, runId: string, patch: RunPatch): void {
  const { key, runsValues, detailValues } = runPatchColumns(patch)
  if (key === '') {
    if (statements.getLastSeq.get(runId) === undefined) throw missingRun(runId)
    return
  }
  const { runs, details } = statements.runPatch(key)
  // Each table has one row per run, so either UPDATE finding none means the run does not exist.
  if (runs !== undefined && runs.run(...runsValues, runId).changes === 0) throw missingRun(runId)
  if (details !== undefined && details.run(...detailValues, runId).changes === 0) throw missingRun(runId)
}

/**
 * Checks the events' seqs and advances the run's `last_seq` past them, only
 * from the value they continue (and, with `fence`, only for that owner).
 * Returns the run's session id.
 */
function advanceSeq(statements: Statements, runId: string, events: readonly RunEvent[], fence: string | undefined): string {
  const count = events.length
  const first = (events[0] as RunEvent).seq
  for (let index = 0; index < count; index++) {
    const event = events[index] as RunEvent
    if (event.runId !== runId) throw new StorageError('storage.failed', `All events of a commit must belong to one run (${runId}), got one of ${event.runId}`)
    if (event.seq !== first + index || !Number.isInteger(event.seq)) {
      throw new StorageError('storage.conflict', `Event seq ${event.seq} of run ${runId} does not follow seq ${first + index - 1}`)
    }
  }
  // The guard on last_seq is what keeps seq dense, even against another process writing the same run.
  const sessionId = (
    fence === undefined ? statements.advanceSeq.get(first - 1 + count, runId, first - 1) : statements.advanceSeqFenced.get(first - 1 + count, runId, first - 1, fence)
  ) as string | undefined
  if (sessionId !== undefined) return sessionId
  // The guard failed: one read, off the hot path, to say why.
  const row = statements.getSeqAndOwner.get(runId) as { last_seq: number; owner_id: string | null } | undefined
  if (row === undefined) throw missingRun(runId)
  if (fence !== undefined && row.owner_id !== fence) throw notOwner(runId, row.owner_id, fence)
  throw new StorageError('storage.conflict', `Event seq ${first} of run ${runId} is not the next one (${row.last_seq + 1})`)
}

function checkOwner(statements: Statements, runId: string, fence: string): void {
  const row = statements.getSeqAndOwner.get(runId) as { owner_id: string | null } | undefined
  if (row === undefined) throw missingRun(runId)
  if (row.owner_id !== fence) throw notOwner(runId, row.owner_id, fence)
}

// Reused for every insert: the values of one multi-row INSERT (better-sqlite3 copies them when binding).
const values: unknown[] = []

function insertEvents(statements: Statements, runId: string, sessionId: string, events: readonly RunEvent[]): void {
  const count = events.length
  let index = 0
  values.length = 0
  while (index < count) {
    const event = events[index] as RunEvent
    if (event.sessionId !== sessionId) {
      throw new StorageError('storage.failed', `Event seq ${event.seq} of run ${runId} names session ${event.sessionId}, but the run belongs to ${sessionId}`)
    }
    values.push(runId, event.seq, event.type, JSON.stringify(event.data), event.createdAt)
    index++
    if (values.length === eventsPerInsert * 5) {
      statements.insertEvents.run(values)
      values.length = 0
    }
  }
  // The rest, fewer than eventsPerInsert, one by one.
  for (let offset = 0; offset < values.length; offset += 5) {
    statements.insertEvent.run(values[offset], values[offset + 1], values[offset + 2], values[offset + 3], values[offset + 4])
  }
  values.length = 0
}

function notOwner(runId: string, owner: string | null, writer: string): StorageError {
  const holder = owner === null ? 'no owner' : `owner ${owner}`
  return new StorageError('storage.conflict', `Run ${runId} has ${holder}, not ${writer}: another process claimed it, so ${writer} can no longer write to it`)
}

function missingRun(runId: string): StorageError {
  return new StorageError('storage.failed', `Run ${runId} does not exist`)
}
