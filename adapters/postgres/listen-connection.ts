/**
 * The connections that LISTEN for the store: a client of its own (from a
 * connection string), or one kept out of the app's pool. Either reports
 * its loss (an error or its end) once, also when it came before anyone asked.
 */
import type { ListenConnection } from './notifications.js'
import type { PgModule, PgPoolClient } from './pg-types.js'

/** A client of its own on `connectionString`, connected. */
export async function clientListenConnection(driver: PgModule, connectionString: string): Promise<ListenConnection> {
  const client = new driver.Client({ connectionString, application_name: 'hearth-runtime listen' })
  // Attached before connecting: a refused connection also emits 'error'.
  let lost: ((error: unknown) => void) | undefined
  let lostError: unknown
  const onLost = (error: unknown): void => {
    if (lost === undefined) lostError ??= error ?? new Error('The connection ended')
    else lost(error)
  }
  client.on('error', onLost)
  client.on('end', () => onLost(new Error('The listening connection ended')))
  await client.connect()
  return {
    query: (text) => client.query(text),
    onNotification: (listener) => client.on('notification', listener),
    onLost: (listener) => {
      lost = listener
      if (lostError !== undefined) listener(lostError)
    },
    close: async () => {
      client.removeAllListeners('notification')
      await client.end()
    },
  }
}

/** A pooled client used to LISTEN: kept out of the pool until closed (then destroyed: it carries LISTEN state). */
export function pooledListenConnection(client: PgPoolClient): ListenConnection {
  const events = client as unknown as { on(event: string, listener: (...values: never[]) => void): unknown; removeAllListeners(event?: string): unknown }
  let released = false
  const release = (error?: Error): void => {
    if (released) return
    released = true
    events.removeAllListeners('notification')
    client.release(error ?? true)
  }
  return {
    query: (text) => client.query(text),
    onNotification: (listener) => events.on('notification', listener),
    onLost: (listener) => {
      events.on('error', (error: Error) => {
        release(error)
        listener(error)
      })
      events.on('end', () => listener(new Error('The listening connection ended')))
    },
    close: async () => {
      if (released) return
      await client.query('UNLISTEN *').catch(() => {})
      release()
    },
  }
}
