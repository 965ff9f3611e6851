/**
 * Checking a client out of the pool safely. A checked-out `pg` client whose
 * connection dies between two queries (a server restart, a terminated
 * backend) emits `error`, and an `error` event without a listener would
 * crash the process; the pool listens only while the client is idle. So a
 * listener stays attached until the client goes back: the next query fails
 * instead, and the caller handles that. Also: a transaction on such a client.
 */
import type { PgPool, PgPoolClient } from './pg-types.js'

/** A client from `pool`, with an `error` listener until `release`. */
export async function checkOut(pool: PgPool): Promise<PgPoolClient> {
  const client = await pool.connect()
  const ignore = (): void => {}
  client.on?.('error', ignore)
  return {
    query: (text, values) => client.query(text, values),
    release(error) {
      client.off?.('error', ignore)
      client.release(error)
    },
  }
}

/**
 * Runs `work` in a transaction of its own on a client of `pool` (`begin`:
 * the store's BEGIN): committed when `work` resolves, rolled back when it
 * throws (and the client then destroyed, as its state is unknown).
 */
export async function inTransaction<T>(pool: PgPool, begin: string, work: (client: PgPoolClient) => Promise<T>): Promise<T> {
  const client = await checkOut(pool)
  try {
    await client.query(begin)
    const result = await work(client)
    await client.query('COMMIT')
    client.release()
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    client.release(error instanceof Error ? error : true)
    throw error
  }
}
