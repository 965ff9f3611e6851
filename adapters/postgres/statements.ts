/**
 * The SQL of the PostgreSQL store, written once per store for its schema.
 * Statements whose shape depends on the call (a run patch's fields, a list's
 * filters) are built on use and cached by shape; there are few shapes.
 */
import type { MessageQuery, RunQuery, SessionQuery } from '../../src/store.js'
import { messageColumns, runDetailColumns, runPatchSql, runSelectList, runsColumns, sessionColumns } from '../sql/records.js'
import { MemorySql } from './memories.js'
import { quoteIdentifier } from './migrations.js'

const numbered = (count: number, from = 1): string => Array.from({ length: count }, (_, index) => `$${from + index}`).join(', ')

/** A statement and its parameters. */
export interface Query {
  text: string
  values: unknown[]
}

const unfinished = "status IN ('queued', 'running', 'waiting_for_input')"

/** What a merged status commit does to the run's session: claims it, frees it, or nothing. */
export type SessionStep = 'claim' | 'release' | 'pass' | 'none'

/** Every SQL text of one store. */
export class Statements {
  /** The quoted schema and a dot, e.g. `"hearth".`. */
  readonly prefix: string
  /** The user memories' statements. */
  readonly memories: MemorySql

  readonly insertSession: string
  readonly getSession: string
  readonly updateSessionState: string
  readonly updateContextSummary: string
  readonly deleteSession: string

  readonly insertRun: string
  readonly insertRunDetails: string
  readonly insertRunWithDetails: string
  readonly getRun: string
  /** The seq check and advance of every event-only commit of a batch at once: arrays of run ids, expected seqs, new seqs, sessions and fences. Returns the ids that advanced. */
  readonly advanceSeqs: string
  /** One run's seq check: last seq, run id, expected seq, fence (or null). Returns the session id. */
  readonly advanceSeq: string
  readonly getSeqAndOwner: string
  /** Inserts events from arrays: run ids, seqs, types, data, times. */
  readonly insertEvents: string
  readonly readEvents: string
  readonly notify: string
  readonly insertEventsAndNotify: string
  /** One notification: the channel, the payload. */
  readonly notifyOne: string

  readonly insertMessage: string
  readonly getMessage: string
  readonly answerMessage: string
  readonly getMessageOwner: string
  readonly getRunSession: string
  /** The id of a parent's child for a tool call: the parent, the tool call id. */
  readonly getChild: string
  readonly getParentRunId: string

  readonly registerOwner: string
  readonly heartbeat: string
  readonly listOwners: string
  readonly removeOwner: string
  readonly removeOwners: string
  readonly anyClaimable: string
  readonly claimRuns: string
  readonly runOwner: string

  readonly claimSession: string
  readonly claimSessionAhead: string
  readonly releaseSession: string
  readonly passSession: string
  readonly sessionHolder: string
  readonly olderQueued: string

  readonly insertControl: string
  readonly getControl: string
  readonly openControls: string
  readonly markControl: string
  readonly settleControl: string
  readonly controlStatus: string

  readonly prune: string
  readonly readMeta: string
  /** BEGIN, with the idle-in-transaction timeout for this transaction (one round trip). */
  readonly begin: string

  readonly #runPatches = new Map<string, { runs: string | undefined; details: string | undefined }>()
  readonly #seqPatches = new Map<string, string>()

  /** `idleTimeoutMs`: the transactions' `idle_in_transaction_session_timeout`. */
  constructor(schema: string, idleTimeoutMs = 5000) {
    const s = `${quoteIdentifier(schema)}.`
    this.prefix = s
    this.memories = new MemorySql(s)
    this.begin = `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.trunc(idleTimeoutMs)}`
    this.insertSession = `INSERT INTO ${s}sessions (${sessionColumns.join(', ')}) VALUES (${numbered(sessionColumns.length)})`
    this.getSession = `SELECT * FROM ${s}sessions WHERE id = $1`
    this.updateSessionState = `UPDATE ${s}sessions SET state = $1, updated_at = $2 WHERE id = $3`
    this.updateContextSummary = `UPDATE ${s}sessions SET context_summary = $1 WHERE id = $2`
    this.deleteSession = `DELETE FROM ${s}sessions WHERE id = $1`

    this.insertRun = `INSERT INTO ${s}runs (${runsColumns.join(', ')}, owner_id, ended_at) VALUES (${numbered(runsColumns.length + 2)})`
    this.insertRunDetails = `INSERT INTO ${s}run_details (run_id, ${runDetailColumns.join(', ')}) VALUES (${numbered(runDetailColumns.length + 1)})`
    // Both rows in one statement (the foreign key is checked at its end): the runs values, then the details'.
    const details = Array.from({ length: runDetailColumns.length + 1 }, (_, index) => `$${runsColumns.length + 3 + index}`).join(', ')
    this.insertRunWithDetails = `WITH inserted AS (${this.insertRun}) INSERT INTO ${s}run_details (run_id, ${runDetailColumns.join(', ')}) VALUES (${details})`
    this.getRun = `SELECT ${runSelectList} FROM ${s}runs r JOIN ${s}run_details d ON d.run_id = r.id WHERE r.id = $1`
    this.advanceSeqs =
      `UPDATE ${s}runs r SET last_seq = v.last FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[]) AS v(id, expected, last, session, fence) ` +
      'WHERE r.id = v.id AND r.last_seq = v.expected AND r.session_id = v.session AND (v.fence IS NULL OR r.owner_id = v.fence) RETURNING r.id'
    this.advanceSeq = `UPDATE ${s}runs SET last_seq = $1 WHERE id = $2 AND last_seq = $3 AND ($4::text IS NULL OR owner_id = $4) RETURNING session_id`
    this.getSeqAndOwner = `SELECT last_seq, owner_id, session_id FROM ${s}runs WHERE id = $1`
    this.insertEvents = `INSERT INTO ${s}events (run_id, seq, type, data, created_at) SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])`
    this.readEvents =
      `SELECT e.seq, e.type, e.data, e.created_at, r.session_id FROM ${s}events e JOIN ${s}runs r ON r.id = e.run_id ` +
      'WHERE e.run_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3'
    this.notify = 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload'
    // A data-modifying CTE runs whether or not the query reads it.
    this.insertEventsAndNotify = `WITH inserted AS (${this.insertEvents}) SELECT pg_notify($6, payload) FROM unnest($7::text[]) AS payload`
    this.notifyOne = 'SELECT pg_notify($1, $2)'

    this.insertMessage = `INSERT INTO ${s}messages (${messageColumns.join(', ')}) VALUES (${numbered(messageColumns.length)})`
    this.getMessage = `SELECT * FROM ${s}messages WHERE id = $1`
    this.answerMessage = `UPDATE ${s}messages SET run_id = $1 WHERE id = $2 AND run_id IS NULL AND session_id = (SELECT session_id FROM ${s}runs WHERE id = $1)`
    this.getMessageOwner = `SELECT session_id, run_id FROM ${s}messages WHERE id = $1`
    this.getRunSession = `SELECT session_id FROM ${s}runs WHERE id = $1`
    this.getChild = `SELECT run_id FROM ${s}run_details WHERE parent_run_id = $1 AND parent_tool_call_id = $2`

    this.registerOwner =
      `INSERT INTO ${s}owners (id, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5) ` +
      'ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at'
    this.heartbeat = `UPDATE ${s}owners SET heartbeat_at = $1 WHERE id = $2`
    this.listOwners = `SELECT id, pid, host, started_at, heartbeat_at FROM ${s}owners ORDER BY started_at, id`
    this.removeOwner = `DELETE FROM ${s}owners WHERE id = $1`
    this.removeOwners = `DELETE FROM ${s}owners WHERE id = ANY($1::text[])`
    const claimable = `${unfinished} AND (owner_id IS NULL OR owner_id = ANY($1::text[]) OR NOT EXISTS (SELECT 1 FROM ${s}owners o WHERE o.id = owner_id))`
    this.anyClaimable = `SELECT 1 FROM ${s}runs WHERE ${claimable} LIMIT 1`
    // SKIP LOCKED: a run another transaction is writing (its owner is alive after all, or another
    // runtime claims it this moment) is left for a later claim instead of waited for.
    this.claimRuns =
      `WITH claimable AS (SELECT id FROM ${s}runs WHERE ${claimable} ORDER BY id FOR UPDATE SKIP LOCKED) ` +
      `UPDATE ${s}runs r SET owner_id = $2 FROM claimable WHERE r.id = claimable.id RETURNING r.id`
    this.runOwner = `SELECT owner_id FROM ${s}runs WHERE id = $1`

    // A queued child belongs to its parent's hold on the session, and keeps no younger run from claiming it.
    const topLevel = (alias: string): string => `NOT EXISTS (SELECT 1 FROM ${s}run_details c WHERE c.run_id = ${alias}.id AND c.parent_run_id IS NOT NULL)`
    this.olderQueued = `SELECT q.id FROM ${s}runs q WHERE q.session_id = $1 AND q.status = 'queued' AND q.id < $2 AND ${topLevel('q')} ORDER BY q.id LIMIT 1`
    this.claimSession =
      `UPDATE ${s}sessions SET active_run_id = $1 WHERE id = $2 AND active_run_id IS NULL ` +
      `AND NOT EXISTS (SELECT 1 FROM ${s}runs q WHERE q.session_id = $2 AND q.status = 'queued' AND q.id < $1 AND ${topLevel('q')})`
    // claimSession in one round trip: the run's session and parent, the claim (or the hold it has), and what came of it.
    this.claimSessionAhead =
      `WITH r AS (SELECT r.session_id, d.parent_run_id FROM ${s}runs r JOIN ${s}run_details d ON d.run_id = r.id WHERE r.id = $1 AND r.${unfinished}), ` +
      `c AS (UPDATE ${s}sessions SET active_run_id = $1 WHERE id = (SELECT session_id FROM r) AND (SELECT parent_run_id FROM r) IS NULL ` +
      `AND (active_run_id IS NULL OR active_run_id = $1) ` +
      `AND NOT EXISTS (SELECT 1 FROM ${s}runs q WHERE q.session_id = (SELECT session_id FROM r) AND q.status = 'queued' AND q.id < $1 AND ${topLevel('q')}) RETURNING 1) ` +
      `SELECT (SELECT count(*) FROM r)::int AS found, coalesce((SELECT parent_run_id IS NOT NULL FROM r), false) AS child, (SELECT count(*) FROM c)::int AS claimed`
    this.releaseSession = `UPDATE ${s}sessions SET active_run_id = NULL WHERE id = $1 AND active_run_id = $2`
    // The session, just freed, to the next run when its own claim would take it (see Commit.passSessionTo).
    this.passSession =
      `UPDATE ${s}sessions SET active_run_id = $1 WHERE id = $2 AND active_run_id IS NULL ` +
      `AND EXISTS (SELECT 1 FROM ${s}runs n JOIN ${s}run_details nd ON nd.run_id = n.id WHERE n.id = $1 AND n.session_id = $2 AND n.status = 'queued' AND nd.parent_run_id IS NULL) ` +
      `AND NOT EXISTS (SELECT 1 FROM ${s}runs q WHERE q.session_id = $2 AND q.status = 'queued' AND q.id < $1 AND ${topLevel('q')})`
    this.sessionHolder = `SELECT active_run_id FROM ${s}sessions WHERE id = $1`
    this.getParentRunId = `SELECT parent_run_id FROM ${s}run_details WHERE run_id = $1`

    this.insertControl =
      `INSERT INTO ${s}controls (id, run_id, action, status, error, created_at, settled_at) SELECT $1, $2, $3, $4, $5, $6, $7 ` +
      `WHERE EXISTS (SELECT 1 FROM ${s}runs WHERE id = $2 AND ${unfinished})`
    this.getControl = `SELECT * FROM ${s}controls WHERE id = $1`
    this.openControls = `SELECT c.* FROM ${s}controls c JOIN ${s}runs r ON r.id = c.run_id WHERE c.status IN ('pending', 'accepted') AND r.owner_id = $1 ORDER BY c.id`
    this.markControl = `UPDATE ${s}controls SET status = $1, settled_at = $2 WHERE id = $3 AND status = 'pending'`
    this.settleControl = `UPDATE ${s}controls SET status = $1, error = $2, settled_at = $3 WHERE id = $4 AND status = 'accepted'`
    this.controlStatus = `SELECT status FROM ${s}controls WHERE id = $1`

    this.prune =
      `DELETE FROM ${s}runs WHERE id IN (SELECT id FROM ${s}runs WHERE status IN ('completed', 'failed', 'cancelled') AND ended_at < $1 ORDER BY ended_at LIMIT $2)`
    this.readMeta = `SELECT value FROM ${s}meta WHERE key = $1`
  }

  /** The UPDATEs of a run patch with the fields `key` (see `runPatchColumns`). */
  runPatch(key: string): { runs: string | undefined; details: string | undefined } {
    let statements = this.#runPatches.get(key)
    if (statements === undefined) {
      statements = runPatchSql(key, true, this.prefix)
      this.#runPatches.set(key, statements)
    }
    return statements
  }

  /**
   * The seq advance of a commit and its run patch (with the fields `key`) in
   * one statement: the `runs` UPDATE checks the seq and the fence and sets
   * the patch's `runs` fields, and a data-modifying CTE sets its
   * `run_details` fields when the first matched, and another claims the
   * session (`session: 'claim'`, as the session claim does: only when no run
   * holds it and no older run of it is queued) or frees it (`'release'`).
   * Parameters: the patch's `runs` values, the run id, the new last seq, the
   * expected one, the fence (or null), then the patch's `run_details`
   * values. Returns the session id and `claimed` (1 when the claim took the
   * session); no row: the seq check or the fence failed, and nothing was written.
   */
  advanceSeqAndPatch(key: string, session: SessionStep = 'none'): string {
    let text = this.#seqPatches.get(`${key}|${session}`)
    if (text === undefined) {
      const { runs, details } = this.runPatch(key)
      const runsMatch = runs === undefined ? undefined : / SET (.*) WHERE id = \$(\d+)$/.exec(runs)
      const before = runsMatch === undefined || runsMatch === null ? 0 : Number(runsMatch[2]) - 1
      const [id, last, expected, fence] = [before + 1, before + 2, before + 3, before + 4]
      const sets = runsMatch === undefined || runsMatch === null ? '' : `${runsMatch[1]}, `
      text =
        `UPDATE ${this.prefix}runs SET ${sets}last_seq = $${last} WHERE id = $${id} AND last_seq = $${expected} ` +
        `AND ($${fence}::text IS NULL OR owner_id = $${fence}) RETURNING session_id`
      const steps: string[] = [`r AS (${text})`]
      const detailsMatch = details === undefined ? null : / SET (.*) WHERE run_id = \$\d+$/.exec(details)
      // With 'pass', the run the session passes to is the parameter after all the others.
      let lastParameter = fence
      if (detailsMatch !== null) {
        const detailSets = (detailsMatch[1] as string).replace(/\$(\d+)/g, (_, index: string) => {
          lastParameter = Math.max(lastParameter, Number(index) + fence)
          return `$${Number(index) + fence}`
        })
        steps.push(`d AS (UPDATE ${this.prefix}run_details SET ${detailSets} WHERE run_id = $${id} AND EXISTS (SELECT 1 FROM r))`)
      }
      const sessionOf = '(SELECT session_id FROM r)'
      const p = this.prefix
      // A child run belongs to its parent's hold on the session: it neither claims nor frees it.
      const child = `EXISTS (SELECT 1 FROM ${p}run_details c WHERE c.run_id = $${id} AND c.parent_run_id IS NOT NULL)`
      if (session === 'claim') {
        // Held already (claimed ahead of the start) counts as claimed: no second look at the session.
        steps.push(
          `s AS (UPDATE ${p}sessions SET active_run_id = $${id} WHERE id = ${sessionOf} AND NOT ${child} AND (active_run_id = $${id} OR (active_run_id IS NULL ` +
            `AND NOT EXISTS (SELECT 1 FROM ${p}runs q WHERE q.session_id = ${sessionOf} AND q.status = 'queued' AND q.id < $${id} ` +
            `AND NOT EXISTS (SELECT 1 FROM ${p}run_details c WHERE c.run_id = q.id AND c.parent_run_id IS NOT NULL)))) RETURNING 1)`,
        )
      } else if (session === 'release') {
        steps.push(`s AS (UPDATE ${p}sessions SET active_run_id = NULL WHERE id = ${sessionOf} AND active_run_id = $${id} AND NOT ${child})`)
      } else if (session === 'pass') {
        // Freed, or passed to the next run when its own claim would take it: queued, top-level, of this session, none older queued.
        const next = `$${lastParameter + 1}`
        steps.push(
          `s AS (UPDATE ${p}sessions SET active_run_id = CASE WHEN EXISTS (SELECT 1 FROM ${p}runs n JOIN ${p}run_details nd ON nd.run_id = n.id ` +
            `WHERE n.id = ${next} AND n.session_id = ${sessionOf} AND n.status = 'queued' AND nd.parent_run_id IS NULL) ` +
            `AND NOT EXISTS (SELECT 1 FROM ${p}runs q WHERE q.session_id = ${sessionOf} AND q.status = 'queued' AND q.id < ${next} ` +
            `AND NOT EXISTS (SELECT 1 FROM ${p}run_details c WHERE c.run_id = q.id AND c.parent_run_id IS NOT NULL)) THEN ${next}::text ELSE NULL END ` +
            `WHERE id = ${sessionOf} AND active_run_id = $${id} AND NOT ${child} RETURNING active_run_id)`,
        )
      }
      const claimed = session === 'claim' ? `(SELECT count(*) FROM s)::int AS claimed, ${child} AS child` : '0 AS claimed, false AS child'
      const passed = session === 'pass' ? '(SELECT count(*) FROM s WHERE active_run_id IS NOT NULL)::int AS passed' : '0 AS passed'
      text = `WITH ${steps.join(', ')} SELECT session_id, ${claimed}, ${passed} FROM r`
      this.#seqPatches.set(`${key}|${session}`, text)
    }
    return text
  }

  /** The SELECT of a run list. */
  listRuns(query: RunQuery): Query {
    const ascending = query.order === 'asc'
    const where: string[] = []
    const values: unknown[] = []
    const parameter = (value: unknown): string => {
      values.push(value)
      return `$${values.length}`
    }
    if (query.orgId !== undefined) where.push(`r.org_id = ${parameter(query.orgId)}`)
    if (query.sessionId !== undefined) where.push(`r.session_id = ${parameter(query.sessionId)}`)
    if (query.parentRunId !== undefined) where.push(`d.parent_run_id = ${parameter(query.parentRunId)}`)
    if (query.topLevel === true) where.push('d.parent_run_id IS NULL')
    if (query.statuses !== undefined) where.push(`r.status = ANY(${parameter([...query.statuses])}::text[])`)
    if (query.before !== undefined) where.push(`r.id ${ascending ? '>' : '<'} ${parameter(query.before)}`)
    const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`
    const limit = parameter(Math.min(query.limit, Number.MAX_SAFE_INTEGER))
    const text = `SELECT ${runSelectList} FROM ${this.prefix}runs r JOIN ${this.prefix}run_details d ON d.run_id = r.id${filter} ORDER BY r.id ${ascending ? 'ASC' : 'DESC'} LIMIT ${limit}`
    return { text, values }
  }

  /** The SELECT of a message list. */
  listMessages(query: MessageQuery): Query {
    const ascending = query.order === 'asc'
    let text = `SELECT * FROM ${this.prefix}messages WHERE session_id = $1${query.unanswered === true ? ' AND run_id IS NULL' : ''}`
    const values: unknown[] = [query.sessionId]
    if (query.before !== undefined) {
      values.push(query.before)
      text += ascending ? ' AND id > $2' : ' AND id < $2'
    }
    values.push(query.limit)
    return { text: `${text} ORDER BY id ${ascending ? 'ASC' : 'DESC'} LIMIT $${values.length}`, values }
  }

  /** The SELECT of a session list. */
  listSessions(query: SessionQuery): Query {
    let text = `SELECT * FROM ${this.prefix}sessions WHERE org_id = $1`
    const values: unknown[] = [query.orgId]
    if (query.userId !== undefined) {
      values.push(query.userId)
      text += ` AND user_id = $${values.length}`
    }
    if (query.before !== undefined) {
      values.push(query.before)
      text += ` AND id < $${values.length}`
    }
    values.push(query.limit)
    return { text: `${text} ORDER BY id DESC LIMIT $${values.length}`, values }
  }

  /** The UPDATE of a session patch with the given columns (values, then the id). */
  updateSession(columns: readonly string[]): string {
    return `UPDATE ${this.prefix}sessions SET ${columns.map((column, index) => `${column} = $${index + 1}`).join(', ')} WHERE id = $${columns.length + 1} RETURNING *`
  }
}
