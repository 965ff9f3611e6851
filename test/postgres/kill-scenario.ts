/**
 * The crash tests' scenario (test/crash/scenario.ts) on PostgreSQL: each
 * kill point gets a schema of its own in the database `HEARTH_KILL_PG_URL`
 * names (set by test/postgres/kill.test.ts, inherited by the victim). The
 * survivor cannot tell from a pid that the victim died (the lease alone
 * decides on PostgreSQL), so the lease is short: 1 s.
 */
import { basename } from 'node:path'
import { postgresStore } from '../../adapters/postgres/index.js'
import { silentLogger } from '../../src/index.js'
import { crashScenario } from '../crash/scenario.js'

const url = process.env.HEARTH_KILL_PG_URL
if (url === undefined) throw new Error('HEARTH_KILL_PG_URL is not set')

export default crashScenario((storePath) => postgresStore({ connectionString: url }, { schema: basename(storePath).replace(/[^A-Za-z0-9_]/g, '_'), idleInTransactionTimeoutMs: 1000, logger: silentLogger }), 1000)
