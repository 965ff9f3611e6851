/**
 * The mapping between hearth's records and the rows of the SQL stores
 * (SQLite and PostgreSQL, which share their tables' shape): camelCase fields
 * to snake_case columns, nested values to JSON text. Every read parses fresh
 * objects, so a caller never shares one with the store. A store whose text
 * columns cannot hold every JavaScript string (PostgreSQL's refuse `\u0000`
 * and lone surrogates) passes `freeTextAsJson`: the free text of sessions,
 * runs and messages (titles, inputs, contents) is then kept as JSON text too.
 */
import { StorageError } from '../../src/errors.js'
import type { RunEvent } from '../../src/events.js'
import { fixedRunFields, type ControlRequest, type Owner, type Run, type RunPatch, type Session, type SessionPatch, type ThreadMessage } from '../../src/store.js'

/** A row of `sessions`. */
export interface SessionRow {
  id: string
  org_id: string
  user_id: string | null
  type: string
  agent: string | null
  title: string | null
  metadata: string
  state: string
  created_by: string | null
  created_at: string
  updated_at: string
  active_run_id: string | null
  context_summary: string | null
}

/** A row of `runs` joined with its `run_details`. */
export type RunRow = Record<string, string | number | null>

/** A row of `events`, read with its run's session id. */
export interface EventRow {
  seq: number
  type: string
  data: string
  created_at: string
  session_id: string
}

/** The columns of `sessions`, in the order of {@link sessionValues}. */
export const sessionColumns = ['id', 'org_id', 'user_id', 'type', 'agent', 'title', 'metadata', 'state', 'created_by', 'created_at', 'updated_at', 'active_run_id', 'context_summary'] as const

/** The values of a session's row, in the order of {@link sessionColumns}. */
export function sessionValues(session: Session, freeTextAsJson = false): unknown[] {
  return [
    session.id,
    session.orgId,
    session.userId,
    session.type,
    session.agent,
    freeTextAsJson ? jsonOrNull(session.title) : session.title,
    JSON.stringify(session.metadata),
    JSON.stringify(session.state),
    jsonOrNull(session.createdBy),
    session.createdAt,
    session.updatedAt,
    session.activeRunId,
    jsonOrNull(session.contextSummary),
  ]
}

/** A session from its row. */
export function sessionFromRow(row: SessionRow, freeTextAsJson = false): Session {
  return {
    id: row.id,
    orgId: row.org_id,
    userId: row.user_id,
    type: row.type as Session['type'],
    agent: row.agent,
    title: freeTextAsJson ? (parseOrNull(row.title) as string | null) : row.title,
    metadata: JSON.parse(row.metadata),
    state: JSON.parse(row.state),
    createdBy: parseOrNull(row.created_by) as Session['createdBy'],
    activeRunId: row.active_run_id,
    contextSummary: parseOrNull(row.context_summary) as Session['contextSummary'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** How a session patch's fields are kept: column, and whether the value is JSON text (2: free text, JSON with `freeTextAsJson`). */
const sessionPatchFields: Readonly<Record<string, readonly [string, 0 | 1 | 2]>> = {
  title: ['title', 2],
  agent: ['agent', 0],
  metadata: ['metadata', 1],
  state: ['state', 1],
  updatedAt: ['updated_at', 0],
}

/**
 * The column updates of a session patch: the columns and their values.
 * Fields set to `undefined` are left alone; any field a patch may not set
 * throws `storage.failed`.
 */
export function sessionPatchColumns(patch: SessionPatch, freeTextAsJson = false): { columns: string[]; values: unknown[] } {
  const columns: string[] = []
  const values: unknown[] = []
  for (const field in patch) {
    const value = (patch as Record<string, unknown>)[field]
    if (value === undefined) continue
    const kept = Object.hasOwn(sessionPatchFields, field) ? sessionPatchFields[field] : undefined
    if (kept === undefined) throw new StorageError('storage.failed', `A session patch cannot set \`${field}\``)
    columns.push(kept[0])
    values.push(kept[1] === 1 || (kept[1] === 2 && freeTextAsJson) ? jsonOrNull(value) : value)
  }
  return { columns, values }
}

/** A row of `messages`. */
export interface MessageRow {
  id: string
  session_id: string
  role: string
  content: string
  run_id: string | null
  created_at: string
}

/** The columns of `messages`, in the order of {@link messageValues}. */
export const messageColumns = ['id', 'session_id', 'role', 'content', 'run_id', 'created_at'] as const

/** The values of a message's row, in the order of {@link messageColumns}. */
export function messageValues(message: ThreadMessage, freeTextAsJson = false): unknown[] {
  return [message.id, message.sessionId, message.role, freeTextAsJson ? JSON.stringify(message.content) : message.content, message.runId, message.createdAt]
}

/** A message from its row. */
export function messageFromRow(row: MessageRow, freeTextAsJson = false): ThreadMessage {
  const content = freeTextAsJson ? (JSON.parse(row.content) as string) : row.content
  return { id: row.id, sessionId: row.session_id, role: row.role as ThreadMessage['role'], content, runId: row.run_id, createdAt: row.created_at }
}

/**
 * How a run field is kept: as it is (0), as JSON text (1), or as free text:
 * as it is, or as JSON text in a store that passes `freeTextAsJson` (2).
 */
type Encoding = 0 | 1 | 2

/** Where each field of a run is kept: table (`runs` or `run_details`), column, and its {@link Encoding}. */
const runFields = {
  id: ['runs', 'id', 0],
  sessionId: ['runs', 'session_id', 0],
  orgId: ['runs', 'org_id', 0],
  status: ['runs', 'status', 0],
  lastSeq: ['runs', 'last_seq', 0],
  createdAt: ['runs', 'created_at', 0],
  traceId: ['run_details', 'trace_id', 0],
  personaId: ['run_details', 'persona_id', 0],
  routeId: ['run_details', 'route_id', 0],
  model: ['run_details', 'model', 0],
  modelProvider: ['run_details', 'model_provider', 0],
  input: ['run_details', 'input', 2],
  messageIds: ['run_details', 'message_ids', 1],
  content: ['run_details', 'content', 2],
  output: ['run_details', 'output', 1],
  reasoningContent: ['run_details', 'reasoning_content', 2],
  messages: ['run_details', 'messages', 1],
  metrics: ['run_details', 'metrics', 1],
  totalCostUsd: ['run_details', 'total_cost_usd', 0],
  cacheHitRate: ['run_details', 'cache_hit_rate', 0],
  creditsUsed: ['run_details', 'credits_used', 0],
  error: ['run_details', 'error', 1],
  limits: ['run_details', 'limits', 1],
  pendingInput: ['run_details', 'pending_input', 1],
  createdBy: ['run_details', 'created_by', 1],
  startedAt: ['run_details', 'started_at', 0],
  completedAt: ['run_details', 'completed_at', 0],
  failedAt: ['run_details', 'failed_at', 0],
  cancelledAt: ['run_details', 'cancelled_at', 0],
  parentRunId: ['run_details', 'parent_run_id', 0],
  rootRunId: ['run_details', 'root_run_id', 0],
  depth: ['run_details', 'depth', 0],
  parentToolCallId: ['run_details', 'parent_tool_call_id', 0],
} as const satisfies Record<keyof Run, readonly ['runs' | 'run_details', string, Encoding]>

type RunField = keyof typeof runFields

const runFieldNames = Object.keys(runFields) as RunField[]
const runsFields = runFieldNames.filter((field) => runFields[field][0] === 'runs')
const detailFields = runFieldNames.filter((field) => runFields[field][0] === 'run_details')

/** The columns of `runs`, in the order of {@link runsValues}. */
export const runsColumns: readonly string[] = runsFields.map((field) => runFields[field][1])

/** The columns of `run_details` after `run_id`, in the order of {@link runDetailValues}. */
export const runDetailColumns: readonly string[] = detailFields.map((field) => runFields[field][1])

/** The SELECT list that reads a whole run from `runs r JOIN run_details d`. */
export const runSelectList: string = runFieldNames.map((field) => `${runFields[field][0] === 'runs' ? 'r' : 'd'}.${runFields[field][1]}`).join(', ')

/** The fields a run patch may not change: they identify the run, or belong to `commit`'s seq check. */

const terminalTimeFields = { completed: 'completedAt', failed: 'failedAt', cancelled: 'cancelledAt' } as const

/**
 * The `ended_at` of a run with these fields: for a finished status, the time
 * of that status (`completedAt`, `failedAt` or `cancelledAt`, else whichever
 * is set); null for an unfinished run, or a finished one with no time, which
 * pruning then keeps.
 */
export function endedAtOf(fields: Pick<RunPatch, 'status' | 'completedAt' | 'failedAt' | 'cancelledAt'>): string | null {
  const status = fields.status
  if (status !== 'completed' && status !== 'failed' && status !== 'cancelled') return null
  return fields[terminalTimeFields[status]] ?? fields.completedAt ?? fields.failedAt ?? fields.cancelledAt ?? null
}

/** The values of a run's `runs` row, in the order of {@link runsColumns}. */
export function runsValues(run: Run): unknown[] {
  return runsFields.map((field) => encodeRunField(field, run[field]))
}

/** The values of a run's `run_details` row: `run_id`, then the order of {@link runDetailColumns}. */
export function runDetailValues(run: Run, freeTextAsJson = false): unknown[] {
  const values: unknown[] = [run.id]
  for (const field of detailFields) values.push(encodeRunField(field, run[field], freeTextAsJson))
  return values
}

/** A run from a row read with {@link runSelectList}. */
export function runFromRow(row: RunRow, freeTextAsJson = false): Run {
  const run: Record<string, unknown> = {}
  for (const field of runFieldNames) {
    const [, column, encoding] = runFields[field]
    const value = row[column]
    run[field] = encoding === 1 || (encoding === 2 && freeTextAsJson) ? parseOrNull(value as string | null) : value
  }
  return run as unknown as Run
}

/** A run patch as column updates: a key naming its shape, and the values of `runs` and of `run_details`. */
export interface RunPatchColumns {
  /** The patched fields, comma-separated; '' when the patch sets nothing. */
  key: string
  runsValues: unknown[]
  detailValues: unknown[]
}

/**
 * The column updates of a run patch. Fields set to `undefined` are left
 * alone; a field that is not a patchable field of a run fails the commit.
 * A patch that sets `status` sets `ended_at` too (last among the `runs` values).
 */
export function runPatchColumns(patch: RunPatch, freeTextAsJson = false): RunPatchColumns {
  let key = ''
  const runsValues: unknown[] = []
  const detailValues: unknown[] = []
  for (const field in patch) {
    const value = (patch as Record<string, unknown>)[field]
    if (value === undefined) continue
    if (!Object.hasOwn(runFields, field) || fixedRunFields.has(field)) {
      throw new StorageError('storage.failed', `A run patch cannot set \`${field}\``)
    }
    key += key === '' ? field : `,${field}`
    const encoded = encodeRunField(field as RunField, value, freeTextAsJson)
    if (runFields[field as RunField][0] === 'runs') runsValues.push(encoded)
    else detailValues.push(encoded)
  }
  if (patch.status !== undefined) runsValues.push(endedAtOf(patch))
  return { key, runsValues, detailValues }
}

/**
 * The UPDATEs of a patch whose fields are `key` (see {@link runPatchColumns});
 * undefined where a table is untouched. Parameters are `?`, or with
 * `numbered` PostgreSQL's `$1`, `$2`, ... (the run id last in each); `tables`
 * prefixes the table names (a quoted schema and a dot).
 */
export function runPatchSql(key: string, numbered = false, tables = ''): { runs: string | undefined; details: string | undefined } {
  const runs: string[] = []
  const details: string[] = []
  for (const field of key.split(',')) {
    const [table, column] = runFields[field as RunField]
    ;(table === 'runs' ? runs : details).push(column)
  }
  if (runs.includes('status')) runs.push('ended_at')
  const update = (table: string, columns: string[], idColumn: string): string | undefined => {
    if (columns.length === 0) return undefined
    const sets = columns.map((column, index) => `${column} = ${numbered ? `$${index + 1}` : '?'}`)
    return `UPDATE ${tables}${table} SET ${sets.join(', ')} WHERE ${idColumn} = ${numbered ? `$${columns.length + 1}` : '?'}`
  }
  return { runs: update('runs', runs, 'id'), details: update('run_details', details, 'run_id') }
}

/** An event from its row. */
export function eventFromRow(row: EventRow, runId: string): RunEvent {
  return {
    runId,
    sessionId: row.session_id,
    seq: row.seq,
    type: row.type,
    data: JSON.parse(row.data),
    createdAt: row.created_at,
  } as RunEvent
}

function encodeRunField(field: RunField, value: unknown, freeTextAsJson = false): unknown {
  const encoding = runFields[field][2]
  return encoding === 1 || (encoding === 2 && freeTextAsJson) ? jsonOrNull(value) : value
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

function parseOrNull(text: string | null): unknown {
  return text === null ? null : JSON.parse(text)
}

/** A row of `controls`. */
export interface ControlRow {
  id: string
  run_id: string
  action: string
  status: string
  error: string | null
  created_at: string
  settled_at: string | null
}

/** A control request from its row. */
export function controlFromRow(row: ControlRow): ControlRequest {
  return {
    id: row.id,
    runId: row.run_id,
    action: JSON.parse(row.action) as ControlRequest['action'],
    status: row.status as ControlRequest['status'],
    error: row.error === null ? null : (JSON.parse(row.error) as ControlRequest['error']),
    createdAt: row.created_at,
    settledAt: row.settled_at,
  }
}

/** A row of `owners`. */
export interface OwnerRow {
  id: string
  pid: number
  host: string
  started_at: string
  heartbeat_at: string
}

/** An owner from its row. */
export function ownerFromRow(row: OwnerRow): Owner {
  return { id: row.id, pid: row.pid, host: row.host, startedAt: row.started_at, heartbeatAt: row.heartbeat_at }
}
