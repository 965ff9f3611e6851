import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStatement } from '../../adapters/sqlite/index.js'
import { anyClaimableSql, claimSql } from '../../adapters/sqlite/owners.js'
import { openControlsSql } from '../../adapters/sqlite/controls.js'
import { pruneSql } from '../../adapters/sqlite/prune.js'
import { olderQueuedSql } from '../../adapters/sqlite/session-claims.js'
import { Statements } from '../../adapters/sqlite/statements.js'
import type { MessageQuery, RunQuery, SessionQuery } from '../../src/store.js'

let database: Database.Database
let statements: Statements

beforeAll(async () => {
  database = new Database(':memory:')
  await sqliteStore({ database }).open()
  statements = new Statements(database)
})
afterAll(() => {
  database.close()
})

const indexColumns = (name: string): string[] =>
  (database.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(name) as string[])

describe('indexes', () => {
  it('exist for every list query', () => {
    const indexes = database.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all()
    expect(indexes).toEqual([
      { name: 'controls_by_run', tbl_name: 'controls' },
      { name: 'controls_open', tbl_name: 'controls' },
      { name: 'memories_user', tbl_name: 'memories' },
      { name: 'messages_by_session', tbl_name: 'messages' },
      { name: 'messages_unanswered', tbl_name: 'messages' },
      { name: 'run_children', tbl_name: 'run_details' },
      { name: 'runs_by_org', tbl_name: 'runs' },
      { name: 'runs_by_org_status', tbl_name: 'runs' },
      { name: 'runs_by_session', tbl_name: 'runs' },
      { name: 'runs_by_status', tbl_name: 'runs' },
      { name: 'runs_ended', tbl_name: 'runs' },
      { name: 'runs_queued', tbl_name: 'runs' },
      { name: 'sessions_by_org', tbl_name: 'sessions' },
      { name: 'sessions_by_org_user', tbl_name: 'sessions' },
    ])
    expect(indexColumns('sessions_by_org')).toEqual(['org_id', 'id'])
    expect(indexColumns('sessions_by_org_user')).toEqual(['org_id', 'user_id', 'id'])
    expect(indexColumns('runs_by_org')).toEqual(['org_id', 'id'])
    expect(indexColumns('runs_by_session')).toEqual(['session_id', 'id'])
    expect(indexColumns('runs_by_status')).toEqual(['status', 'id'])
    expect(indexColumns('runs_by_org_status')).toEqual(['org_id', 'status', 'id'])
    expect(indexColumns('runs_ended')).toEqual(['ended_at'])
    expect(indexColumns('messages_by_session')).toEqual(['session_id', 'id'])
    expect(indexColumns('messages_unanswered')).toEqual(['session_id', 'id'])
    expect(indexColumns('runs_queued')).toEqual(['session_id', 'id'])
    expect(indexColumns('run_children')).toEqual(['parent_run_id', 'parent_tool_call_id'])
    expect(indexColumns('controls_by_run')).toEqual(['run_id'])
    expect(indexColumns('controls_open')).toEqual(['id'])
    expect(indexColumns('memories_user')).toEqual(['org_id', 'user_id', 'updated_at', 'id'])
  })

  it('serve a user’s memories, newest update first, from their index without sorting', () => {
    const detail = (database.prepare('EXPLAIN QUERY PLAN SELECT * FROM memories WHERE org_id = ? AND user_id = ? ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?').all('o', 'u', 20, 0) as { detail: string }[])
      .map((row) => row.detail)
      .join('; ')
    expect(detail).toContain('memories_user')
    expect(detail).not.toContain('TEMP B-TREE')
  })

  it('keep (run_id, seq) of events unique', () => {
    const unique = database.prepare("SELECT name FROM pragma_index_list('events') WHERE \"unique\" = 1").pluck().all() as string[]
    expect(unique.map(indexColumns)).toContainEqual(['run_id', 'seq'])
  })

  // The store's statements are better-sqlite3's, typed structurally without `source`.
  const plan = (statement: SqliteStatement, parameters: unknown[]): string =>
    (database.prepare(`EXPLAIN QUERY PLAN ${(statement as Database.Statement).source}`).all(...parameters) as { detail: string }[]).map((row) => row.detail).join('; ')

  it.each<[string, RunQuery, string]>([
    ['org', { orgId: 'o', limit: 20 }, 'runs_by_org'],
    ['org, before', { orgId: 'o', limit: 20, before: 'run_x' }, 'runs_by_org'],
    ['session', { sessionId: 's', limit: 20 }, 'runs_by_session'],
    ['session, ascending', { sessionId: 's', limit: 20, order: 'asc', before: 'run_x' }, 'runs_by_session'],
    ['status', { statuses: ['queued'], limit: 20 }, 'runs_by_status'],
    ['org and status', { orgId: 'o', statuses: ['completed'], limit: 20 }, 'runs_by_org_status'],
  ])('serve a run list by %s without sorting', (_, query, index) => {
    const { statement, parameters } = statements.listRuns(query)
    const detail = plan(statement, parameters)
    expect(detail).toContain(index)
    expect(detail).not.toContain('TEMP B-TREE')
  })

  it.each<[string, SessionQuery, string]>([
    ['org', { orgId: 'o', limit: 20 }, 'sessions_by_org'],
    ['org and user', { orgId: 'o', userId: 'u', limit: 20, before: 'thr_x' }, 'sessions_by_org_user'],
  ])('serve a session list by %s without sorting', (_, query, index) => {
    const { statement, parameters } = statements.listSessions(query)
    const detail = plan(statement, parameters)
    expect(detail).toContain(index)
    expect(detail).not.toContain('TEMP B-TREE')
  })

  it.each<[string, MessageQuery, string]>([
    ['thread', { sessionId: 's', limit: 20 }, 'messages_by_session'],
    ['thread, before', { sessionId: 's', limit: 20, before: 'msg_x' }, 'messages_by_session'],
    ['thread, unanswered, oldest first', { sessionId: 's', unanswered: true, limit: 100, order: 'asc' }, 'messages_unanswered'],
  ])('serve a message list by %s without sorting', (_, query, index) => {
    const { statement, parameters } = statements.listMessages(query)
    const detail = plan(statement, parameters)
    expect(detail).toContain(index)
    expect(detail).not.toContain('TEMP B-TREE')
  })

  it('hold only finished runs for pruning', () => {
    const sql = database.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'runs_ended'").pluck().get() as string
    expect(sql).toMatch(/WHERE status IN \('completed', 'failed', 'cancelled'\)$/)
  })

  it.each<[string, string, unknown[], string]>([
    ['a claim', claimSql, ['own_a', '["own_b"]'], 'runs_by_status (status=?)'],
    ['the check before a claim', anyClaimableSql, ['[]'], 'runs_by_status (status=?)'],
    ['a prune batch', pruneSql, ['2026-01-01T00:00:00.000Z', 500], 'runs_ended (ended_at<?)'],
    ['the session claim’s look for an older queued run', olderQueuedSql, ['thr_a', 'run_b'], 'runs_queued (session_id=? AND id<?)'],
    ['the control requests of an owner', openControlsSql, ['own_a'], 'controls_open'],
  ])('serve %s from their index', (_, sql, parameters, index) => {
    const detail = (database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[]).map((row) => row.detail).join('; ')
    expect(detail).toContain(index)
    expect(detail).not.toContain('TEMP B-TREE')
    expect(detail).not.toMatch(/SCAN (r|runs)( |$)(?!USING)/)
  })
})
