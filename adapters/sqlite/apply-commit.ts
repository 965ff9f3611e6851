/**
 * Applies one `Commit` inside the caller's transaction or savepoint. It
 * throws on the first problem and leaves the cleanup to the caller's
 * rollback, so a failed commit writes nothing. This runs for every event of
 * every run: it does no reads on the way to success beyond the one the seq
 * check returns.
 */
import { StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import type { Commit, Run, RunPatch } from '../../src/store.js'
import { runDetailValues, runPatchColumns, runsValues } from './records.js'
import { sqliteCodeOf } from './storage-errors.js'
import type { Statements } from './statements.js'

/** Writes `commit`; throws a `StorageError` (or a SQLite error) when it cannot. */
export function applyCommit(statements: Statements, commit: Commit): void {
  const inserted = commit.insertRun
  if (inserted !== undefined) insertRun(statements, inserted)
  const events = commit.events
  const runId = commit.run?.id ?? events?.[0]?.runId ?? inserted?.id
  if (commit.run !== undefined) patchRun(statements, commit.run.id, commit.run.patch)
  if (events !== undefined && events.length > 0) appendEvents(statements, runId as string, events)
  const sessionState = commit.sessionState
  if (sessionState !== undefined) {
    const { changes } = statements.updateSessionState.run(JSON.stringify(sessionState.state), sessionState.updatedAt, sessionState.sessionId)
    if (changes === 0) throw new StorageError('storage.failed', `Session ${sessionState.sessionId} does not exist`)
  }
}

function insertRun(statements: Statements, run: Run): void {
  if (run.lastSeq !== 0) throw new StorageError('storage.failed', `A new run must have lastSeq 0, run ${run.id} has ${run.lastSeq}`)
  try {
    statements.insertRun.run(...runsValues(run))
    statements.insertRunDetails.run(...runDetailValues(run))
  } catch (error) {
    const code = sqliteCodeOf(error)
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StorageError('storage.failed', `Run ${run.id} already exists`, { cause: error })
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

function appendEvents(statements: Statements, runId: string, events: readonly RunEvent[]): void {
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
  const sessionId = statements.advanceSeq.get(first - 1 + count, runId, first - 1) as string | undefined
  if (sessionId === undefined) {
    const lastSeq = statements.getLastSeq.get(runId) as number | undefined
    if (lastSeq === undefined) throw missingRun(runId)
    throw new StorageError('storage.conflict', `Event seq ${first} of run ${runId} is not the next one (${lastSeq + 1})`)
  }
  const insertEvent = statements.insertEvent
  for (let index = 0; index < count; index++) {
    const event = events[index] as RunEvent
    if (event.sessionId !== sessionId) {
      throw new StorageError('storage.failed', `Event seq ${event.seq} of run ${runId} names session ${event.sessionId}, but the run belongs to ${sessionId}`)
    }
    insertEvent.run(runId, event.seq, event.type, JSON.stringify(event.data), event.createdAt)
  }
}

function missingRun(runId: string): StorageError {
  return new StorageError('storage.failed', `Run ${runId} does not exist`)
}
