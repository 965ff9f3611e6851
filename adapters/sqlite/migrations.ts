/**
 * The schema of the SQLite store, as a list of versioned migrations. The
 * version lives in the `meta` table (key `schema_version`), not in
 * `PRAGMA user_version`, so an app that shares its database keeps its own
 * `user_version`. Migrations only ever get appended: a released one is never
 * edited, and a file newer than the code is refused, never downgraded.
 */
import { StorageError } from '../../src/errors.js'
import { createId } from '../../src/ids.js'
import { checkNotNewer } from '../sql/newer-schema.js'
import type { SqliteDatabase } from './database-types.js'

/** One step of the schema. */
export interface Migration {
  /** 1 for the first migration, then 2, 3, ... without gaps. */
  version: number
  /** What the step does, for people reading the list. */
  description: string
  /** Runs inside the migration's own transaction. */
  up: (database: SqliteDatabase) => void
}

const version1 = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  user_id TEXT,
  type TEXT NOT NULL,
  agent TEXT,
  title TEXT,
  metadata TEXT NOT NULL,
  state TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_org ON sessions (org_id, id);
CREATE INDEX sessions_by_org_user ON sessions (org_id, user_id, id);

-- runs stays narrow: every commit of events rewrites its row (last_seq), and SQLite
-- rewrites a whole row on update, so the bulky fields live in run_details.
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  org_id TEXT NOT NULL,
  status TEXT NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX runs_by_org ON runs (org_id, id);
CREATE INDEX runs_by_session ON runs (session_id, id);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_org_status ON runs (org_id, status, id);

CREATE TABLE run_details (
  run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  trace_id TEXT NOT NULL,
  persona_id TEXT NOT NULL,
  route_id TEXT NOT NULL,
  model TEXT NOT NULL,
  model_provider TEXT NOT NULL,
  input TEXT NOT NULL,
  content TEXT,
  reasoning_content TEXT,
  messages TEXT NOT NULL,
  metrics TEXT NOT NULL,
  total_cost_usd REAL NOT NULL,
  cache_hit_rate REAL NOT NULL,
  credits_used REAL NOT NULL,
  error TEXT,
  pending_input TEXT NOT NULL,
  created_by TEXT,
  started_at TEXT,
  completed_at TEXT,
  failed_at TEXT,
  cancelled_at TEXT
) STRICT;

-- events has a rowid, so the events of runs written side by side append at the table's end
-- (keyed by (run_id, seq) instead, each run's insert dirtied a page of its own: ~1.5x slower).
-- events.id is a store-wide cursor over every run's log, never reused (AUTOINCREMENT) even
-- after pruning, so a reader in another process can tail all new events with id > cursor.
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (run_id, seq)
) STRICT;
`

// Ownership and retention. owners has no foreign key from runs: removing an owner (it stopped, or
// another process declared it dead) leaves its runs in place, orphaned, for the next claim.
// ended_at is the time a run reached completed, failed or cancelled (the patch's completedAt,
// failedAt or cancelledAt), kept in runs so that pruning reads one small partial index.
// Claiming needs no index of its own: runs_by_status (status, id) already reads only the runs of the
// three unfinished statuses, and one more index would cost a write on every change of status.
const version2 = `
CREATE TABLE owners (
  id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

ALTER TABLE runs ADD COLUMN owner_id TEXT;
ALTER TABLE runs ADD COLUMN ended_at TEXT;

UPDATE runs SET ended_at = (
  SELECT COALESCE(CASE runs.status WHEN 'completed' THEN d.completed_at WHEN 'failed' THEN d.failed_at ELSE d.cancelled_at END, d.completed_at, d.failed_at, d.cancelled_at)
  FROM run_details d WHERE d.run_id = runs.id
) WHERE status IN ('completed', 'failed', 'cancelled');

CREATE INDEX runs_ended ON runs (ended_at) WHERE status IN ('completed', 'failed', 'cancelled');
`

// Version 1's events table, rebuilt without its foreign key and AUTOINCREMENT, both paid on every event of the hot
// path: the foreign key with a lookup in runs per row (the commit's seq check has already found
// the run, in the same transaction), AUTOINCREMENT with a write to sqlite_sequence per statement.
// Measured with 200 concurrent runtime runs (bench/sqlite-runtime.ts): ~8% more runs/s. Deleting a
// run still deletes its events, by trigger (it fires for the cascade from sessions too). events.id
// stays the order rows were written, but it is no longer a cursor that survives pruning: pruning
// the newest runs may let their ids be used again. Nothing reads it; readers follow (run_id, seq).
const version3 = `
CREATE TABLE events_v3 (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (run_id, seq)
) STRICT;
INSERT INTO events_v3 (id, run_id, seq, type, data, created_at) SELECT id, run_id, seq, type, data, created_at FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
CREATE TRIGGER runs_delete_events AFTER DELETE ON runs BEGIN
  DELETE FROM events WHERE run_id = old.id;
END;
`

// Thread messages (a user's message waits in its thread until a run takes it), and two run fields:
// the messages a run answers and the parsed output of an agent with an output schema. messages
// keeps a rowid (a message may be as large as a run's input, which WITHOUT ROWID serves badly), and
// its run_id has no foreign key: a pruned run's messages stay answered, naming the run that took
// them. The partial index holds only the unanswered messages a starting run looks for.
const version4 = `
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  run_id TEXT,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX messages_by_session ON messages (session_id, id);
CREATE INDEX messages_unanswered ON messages (session_id, id) WHERE run_id IS NULL;
ALTER TABLE run_details ADD COLUMN message_ids TEXT;
ALTER TABLE run_details ADD COLUMN output TEXT;
`

// One active run per session across processes (issue 12): sessions.active_run_id is the run that
// holds the session, claimed in the transaction that moves a run to running or waiting_for_input and
// cleared in the one that ends it; filled in here for the runs active already. A run may claim only
// when no older run of its session is queued, which the partial index runs_queued answers in one
// seek (it holds queued runs only, so a run pays for it when queued and when it starts). controls
// holds the cancels and inputs any process records for a run's owner; they go with their run.
const version5 = `
ALTER TABLE sessions ADD COLUMN active_run_id TEXT;
UPDATE sessions SET active_run_id = (
  SELECT id FROM runs WHERE runs.session_id = sessions.id AND runs.status IN ('running', 'waiting_for_input') ORDER BY id LIMIT 1
);
CREATE INDEX runs_queued ON runs (session_id, id) WHERE status = 'queued';
CREATE TABLE controls (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  created_at TEXT NOT NULL,
  settled_at TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX controls_by_run ON controls (run_id);
CREATE INDEX controls_open ON controls (id) WHERE status IN ('pending', 'accepted');
`

// The limits a run executes under (its agent's, with the run's own over them), kept with the run so a
// runtime that recovers it enforces the same ones.
const version6 = `
ALTER TABLE run_details ADD COLUMN limits TEXT;
`

// The summary of a session's older runs (an agent's context strategy \`summarize\`), read by its later runs.
const version7 = `
ALTER TABLE sessions ADD COLUMN context_summary TEXT;
`

// Child runs (issue 16): a run's place in its tree, kept with its details (set at insert, never patched). A parent has
// at most one child per tool call (the unique partial index, which also serves listing a run's children), so a child is
// created once even when a parent resumed after a crash starts its tool call again. Older runs are top-level: their own root.
const version8 = `
ALTER TABLE run_details ADD COLUMN parent_run_id TEXT;
ALTER TABLE run_details ADD COLUMN root_run_id TEXT;
ALTER TABLE run_details ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_details ADD COLUMN parent_tool_call_id TEXT;
UPDATE run_details SET root_run_id = run_id;
CREATE UNIQUE INDEX run_children ON run_details (parent_run_id, parent_tool_call_id) WHERE parent_run_id IS NOT NULL;
`

// User memories (issue 18): each of one org and one user, every query naming both, so the index leads with them.
// topics is a JSON array of strings.
const version9 = `
CREATE TABLE memories (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  agent_key TEXT,
  memory TEXT NOT NULL,
  topics TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX memories_user ON memories (org_id, user_id, updated_at, id);
`

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'meta, sessions, runs (with run_details) and events, an index per list query; the store id',
    up(database) {
      database.exec(version1)
      // Made here, inside the first migration's transaction, so exactly one id is ever kept per file.
      database.prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?)").run(createId('db'))
    },
  },
  {
    version: 2,
    description: 'owners; runs.owner_id and runs.ended_at (filled in for finished runs), with a partial index for pruning',
    up(database) {
      database.exec(version2)
    },
  },
  {
    version: 3,
    description: 'events rebuilt without the foreign key to runs and without AUTOINCREMENT; a trigger deletes the events of a deleted run',
    up(database) {
      database.exec(version3)
    },
  },
  {
    version: 4,
    description: 'messages (thread messages, with an index of the unanswered ones); run_details.message_ids and run_details.output',
    up(database) {
      database.exec(version4)
    },
  },
  {
    version: 5,
    description: 'sessions.active_run_id (the session claim) with runs_queued, a partial index of queued runs; controls (cancel and input requests)',
    up(database) {
      database.exec(version5)
    },
  },
  {
    version: 6,
    description: 'run_details.limits (JSON, nullable): the limits a run executes under',
    up(database) {
      database.exec(version6)
    },
  },
  {
    version: 7,
    description: 'sessions.context_summary (JSON, nullable): the summary of the session\'s older runs its later runs are sent',
    up(database) {
      database.exec(version7)
    },
  },
  {
    version: 8,
    description: 'run_details.parent_run_id, root_run_id, depth, parent_tool_call_id (child runs), with a unique index of children by parent and tool call',
    up(database) {
      database.exec(version8)
    },
  },
  {
    version: 9,
    description: 'memories (user memories, by org and user)',
    up(database) {
      database.exec(version9)
    },
  },
]

/** The schema version this code writes: the version of the last migration. */
export const schemaVersion: number = migrations.length

/** The schema version of an open database; 0 for a fresh one. */
export function readSchemaVersion(database: SqliteDatabase): number {
  const hasMeta = database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()
  if (hasMeta === undefined) return 0
  const row = database.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined
  if (row === undefined) return 0
  const version = Number(row.value)
  if (!Number.isInteger(version) || version < 0) {
    throw new StorageError('storage.corrupt', `The schema version in the meta table is not a version: \`${row.value}\``)
  }
  return version
}

/**
 * Brings the database up to the last version of `list`, each migration in its
 * own transaction. A database newer than `list` fails with
 * `storage.newer_schema`. Returns the versions it applied.
 */
export function migrate(database: SqliteDatabase, list: readonly Migration[] = migrations, name = 'the database'): number[] {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`Migration ${index + 1} carries version ${migration.version}`)
  })
  const latest = list.length
  const applied: number[] = []
  let current = readSchemaVersion(database)
  checkNotNewer(current, latest, name)
  for (const migration of list) {
    if (migration.version <= current) continue
    database.exec('BEGIN IMMEDIATE')
    try {
      // Another process may have migrated while this one waited for the write lock.
      current = readSchemaVersion(database)
      checkNotNewer(current, latest, name)
      if (migration.version > current) {
        migration.up(database)
        database.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(migration.version))
        applied.push(migration.version)
        current = migration.version
      }
      database.exec('COMMIT')
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK')
      throw error
    }
  }
  return applied
}
