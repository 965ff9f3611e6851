/**
 * The schema of the PostgreSQL store, as a list of versioned migrations, in a
 * schema of its own (`hearth` unless told otherwise). The version lives in
 * the `meta` table (key `schema_version`). Migrations only ever get appended:
 * a released one is never edited, and a database newer than the code is
 * refused, never downgraded. Replicas that start together migrate one at a
 * time, under a transaction-scoped advisory lock.
 *
 * Every id and time column is `COLLATE "C"`, so that lists order by bytes as
 * SQLite does whatever the database's collation. Values that carry JSON, and
 * the free text of runs and messages (which a model or a tool may fill with
 * `\u0000` or a lone surrogate, which a `text` column cannot hold), are kept
 * as JSON text in `text` columns: never `jsonb`, which rejects `\u0000` and
 * reorders keys.
 */
import { StorageError } from '../../src/errors.js'
import { createId } from '../../src/ids.js'
import { checkNotNewer } from '../sql/newer-schema.js'
import type { PgQueryable } from './pg-types.js'

/** One step of the schema. */
export interface PostgresMigration {
  /** 1 for the first migration, then 2, 3, ... without gaps. */
  version: number
  /** What the step does, for people reading the list. */
  description: string
  /** The SQL of the step; `{schema}` stands for the quoted schema name. */
  sql: string
}

// runs stays narrow, as in the SQLite store: every commit of events updates its row (last_seq), and
// PostgreSQL writes a new version of the whole row on each update; with fillfactor 80 and no index on
// last_seq, those updates stay on the row's page (HOT) and touch no index. The bulky fields live in
// run_details. events has no foreign key to runs (a lookup per inserted row): the commit's seq check
// has found the run in the same transaction, and a trigger deletes the events of a deleted run.
const version1 = `
CREATE TABLE {schema}.meta (
  key text COLLATE "C" PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE {schema}.sessions (
  id text COLLATE "C" PRIMARY KEY,
  org_id text COLLATE "C" NOT NULL,
  user_id text COLLATE "C",
  type text NOT NULL,
  agent text,
  title text,
  metadata text NOT NULL,
  state text NOT NULL,
  created_by text,
  created_at text COLLATE "C" NOT NULL,
  updated_at text COLLATE "C" NOT NULL,
  active_run_id text COLLATE "C",
  context_summary text
);
CREATE INDEX sessions_by_org ON {schema}.sessions (org_id, id);
CREATE INDEX sessions_by_org_user ON {schema}.sessions (org_id, user_id, id);

CREATE TABLE {schema}.runs (
  id text COLLATE "C" PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL REFERENCES {schema}.sessions (id) ON DELETE CASCADE,
  org_id text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  last_seq integer NOT NULL DEFAULT 0,
  created_at text COLLATE "C" NOT NULL,
  owner_id text COLLATE "C",
  ended_at text COLLATE "C"
) WITH (fillfactor = 80);
CREATE INDEX runs_by_org ON {schema}.runs (org_id, id);
CREATE INDEX runs_by_session ON {schema}.runs (session_id, id);
CREATE INDEX runs_by_status ON {schema}.runs (status, id);
CREATE INDEX runs_by_org_status ON {schema}.runs (org_id, status, id);
CREATE INDEX runs_queued ON {schema}.runs (session_id, id) WHERE status = 'queued';
CREATE INDEX runs_ended ON {schema}.runs (ended_at) WHERE status IN ('completed', 'failed', 'cancelled');

CREATE TABLE {schema}.run_details (
  run_id text COLLATE "C" PRIMARY KEY REFERENCES {schema}.runs (id) ON DELETE CASCADE,
  trace_id text NOT NULL,
  persona_id text NOT NULL,
  route_id text NOT NULL,
  model text NOT NULL,
  model_provider text NOT NULL,
  input text NOT NULL,
  message_ids text,
  content text,
  output text,
  reasoning_content text,
  messages text NOT NULL,
  metrics text NOT NULL,
  total_cost_usd double precision NOT NULL,
  cache_hit_rate double precision NOT NULL,
  credits_used double precision NOT NULL,
  error text,
  limits text,
  pending_input text NOT NULL,
  created_by text,
  started_at text,
  completed_at text,
  failed_at text,
  cancelled_at text
);

CREATE TABLE {schema}.events (
  run_id text COLLATE "C" NOT NULL,
  seq integer NOT NULL,
  type text NOT NULL,
  data text NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE FUNCTION {schema}.runs_delete_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DELETE FROM %I.events WHERE run_id = $1', TG_TABLE_SCHEMA) USING OLD.id;
  RETURN OLD;
END
$$;
CREATE TRIGGER runs_delete_events AFTER DELETE ON {schema}.runs FOR EACH ROW EXECUTE FUNCTION {schema}.runs_delete_events();

CREATE TABLE {schema}.messages (
  id text COLLATE "C" PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL REFERENCES {schema}.sessions (id) ON DELETE CASCADE,
  role text NOT NULL,
  content text NOT NULL,
  run_id text COLLATE "C",
  created_at text NOT NULL
);
CREATE INDEX messages_by_session ON {schema}.messages (session_id, id);
CREATE INDEX messages_unanswered ON {schema}.messages (session_id, id) WHERE run_id IS NULL;

CREATE TABLE {schema}.owners (
  id text COLLATE "C" PRIMARY KEY,
  pid integer NOT NULL,
  host text NOT NULL,
  started_at text COLLATE "C" NOT NULL,
  heartbeat_at text NOT NULL
);

CREATE TABLE {schema}.controls (
  id text COLLATE "C" PRIMARY KEY,
  run_id text COLLATE "C" NOT NULL REFERENCES {schema}.runs (id) ON DELETE CASCADE,
  action text NOT NULL,
  status text COLLATE "C" NOT NULL,
  error text,
  created_at text NOT NULL,
  settled_at text
);
CREATE INDEX controls_by_run ON {schema}.controls (run_id);
CREATE INDEX controls_open ON {schema}.controls (id) WHERE status IN ('pending', 'accepted');
`

// Child runs (issue 16): a run's place in its tree, with its details (set at insert, never patched); a parent has at
// most one child per tool call, which the unique partial index (also the index of a run's children) keeps.
const version2 = `
ALTER TABLE {schema}.run_details ADD COLUMN parent_run_id text COLLATE "C";
ALTER TABLE {schema}.run_details ADD COLUMN root_run_id text COLLATE "C";
ALTER TABLE {schema}.run_details ADD COLUMN depth integer NOT NULL DEFAULT 0;
ALTER TABLE {schema}.run_details ADD COLUMN parent_tool_call_id text;
UPDATE {schema}.run_details SET root_run_id = run_id;
CREATE UNIQUE INDEX run_children ON {schema}.run_details (parent_run_id, parent_tool_call_id) WHERE parent_run_id IS NOT NULL;
`

// User memories (issue 18): each of one org and one user, every query naming both, so the index leads with them.
// memory is plain text (the runtime refuses U+0000 and lone surrogates in it), topics JSON text.
const version3 = `
CREATE TABLE {schema}.memories (
  id text COLLATE "C" PRIMARY KEY,
  org_id text COLLATE "C" NOT NULL,
  user_id text COLLATE "C" NOT NULL,
  agent_key text COLLATE "C",
  memory text NOT NULL,
  topics text NOT NULL,
  created_at text COLLATE "C" NOT NULL,
  updated_at text COLLATE "C" NOT NULL
);
CREATE INDEX memories_user ON {schema}.memories (org_id, user_id, updated_at, id);
`

/** Every migration, oldest first. */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'meta (with the store id), sessions, runs (with run_details), events keyed by (run_id, seq), messages, owners and controls, an index per query',
    sql: version1,
  },
  {
    version: 2,
    description: 'run_details.parent_run_id, root_run_id, depth, parent_tool_call_id (child runs), with a unique index of children by parent and tool call',
    sql: version2,
  },
  {
    version: 3,
    description: 'memories (user memories, by org and user)',
    sql: version3,
  },
]

/** The schema version this code writes: the version of the last migration. */
export const postgresSchemaVersion: number = postgresMigrations.length

/** `name` as a quoted identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * The schema version kept in `schema`; 0 when the schema or its `meta` table
 * does not exist yet.
 */
export async function readSchemaVersion(client: PgQueryable, schema: string): Promise<number> {
  const table = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`${quoteIdentifier(schema)}.meta`])
  if (table.rows[0]?.found === null || table.rows[0] === undefined) return 0
  const row = (await client.query<{ value: string }>(`SELECT value FROM ${quoteIdentifier(schema)}.meta WHERE key = 'schema_version'`)).rows[0]
  if (row === undefined) return 0
  const version = Number(row.value)
  if (!Number.isInteger(version) || version < 0) {
    throw new StorageError('storage.corrupt', `The schema version in ${schema}.meta is not a version: \`${row.value}\``)
  }
  return version
}

/**
 * Brings `schema` up to the last version of `list` in one transaction, under
 * an advisory lock that other replicas migrating at once wait for. A schema
 * newer than `list` fails with `storage.newer_schema`. Returns the versions
 * it applied. `client` must be one connection (not a pool), outside a transaction.
 */
export async function migrate(client: PgQueryable, schema: string, list: readonly PostgresMigration[] = postgresMigrations, name = 'the database'): Promise<number[]> {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`Migration ${index + 1} carries version ${migration.version}`)
  })
  const latest = list.length
  // A read first, without the lock: replicas that find the schema current start at once.
  const seen = await readSchemaVersion(client, schema)
  checkNotNewer(seen, latest, name)
  if (seen === latest) return []
  const quoted = quoteIdentifier(schema)
  const applied: number[] = []
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hearth-runtime migrate ${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`)
    // Read again under the lock: another replica may have migrated while this one waited.
    let current = await readSchemaVersion(client, schema)
    checkNotNewer(current, latest, name)
    for (const migration of list) {
      if (migration.version <= current) continue
      await client.query(migration.sql.replaceAll('{schema}', quoted))
      if (migration.version === 1) await client.query(`INSERT INTO ${quoted}.meta (key, value) VALUES ('store_id', $1)`, [createId('db')])
      await client.query(`INSERT INTO ${quoted}.meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [
        String(migration.version),
      ])
      applied.push(migration.version)
      current = migration.version
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
  return applied
}
