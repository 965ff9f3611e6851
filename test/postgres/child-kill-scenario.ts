/**
 * The child-run kill scenario (test/crash/child-scenario.ts) on PostgreSQL:
 * a schema per kill point in the database `HEARTH_KILL_PG_URL` names; the
 * lease alone tells the survivor the victim died, so it is short (1 s).
 */
import { basename } from 'node:path'
import { postgresStore } from '../../adapters/postgres/index.js'
import { silentLogger } from '../../src/index.js'
import { childScenario } from '../crash/child-scenario.js'

const url = process.env.HEARTH_KILL_PG_URL
if (url === undefined) throw new Error('HEARTH_KILL_PG_URL is not set')

export default childScenario((storePath) => postgresStore({ connectionString: url }, { schema: basename(storePath).replace(/[^A-Za-z0-9_]/g, '_'), idleInTransactionTimeoutMs: 1000, logger: silentLogger }), 1000)
