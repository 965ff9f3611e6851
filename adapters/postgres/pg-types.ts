/**
 * The parts of `pg` (node-postgres) the store uses, as structural types. The
 * store loads `pg` only in `open()`, and its declarations never name the
 * package's types, so an app that uses hearth-runtime/postgres needs neither
 * `@types/pg` nor the package at compile time. A `pg.Pool` is assignable to
 * {@link PgPool}.
 */

/** What a query returned. */
export interface PgQueryResult<Row = Record<string, unknown>> {
  /** The rows, as objects keyed by column name. */
  rows: Row[]
  /** Rows inserted, updated, deleted or selected; null for commands that report none. */
  rowCount: number | null
}

/** A `NOTIFY` delivered to a listening connection. */
export interface PgNotification {
  /** The backend that sent it. */
  processId: number
  channel: string
  payload?: string | undefined
}

/** Anything that runs a query: a pool, a pooled client or a client. */
export interface PgQueryable {
  /** Runs `text` with `$1`-style `values`. */
  query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<PgQueryResult<Row>>
}

/** A client checked out of a pool. */
export interface PgPoolClient extends PgQueryable {
  /** Gives the client back to its pool; with an error (or `true`), the pool destroys it instead. */
  release(error?: Error | boolean): void
  /** Listens for the connection's errors while checked out (a server restart between two queries). */
  on?(event: 'error', listener: (error: Error) => void): unknown
  /** Stops listening. */
  off?(event: 'error', listener: (error: Error) => void): unknown
}

/** A pool of connections: the subset of `pg.Pool` the store calls. */
export interface PgPool extends PgQueryable {
  /** Checks a client out of the pool. */
  connect(): Promise<PgPoolClient>
  /** Closes every connection of the pool. */
  end(): Promise<void>
  /** Listens for errors of idle clients (a server restart): without a listener, Node would crash. */
  on(event: 'error', listener: (error: Error) => void): unknown
  /** Stops listening. */
  off?(event: 'error', listener: (error: Error) => void): unknown
}

/** A single connection: the subset of `pg.Client` the listener calls. */
export interface PgClient extends PgQueryable {
  connect(): Promise<void>
  end(): Promise<void>
  on(event: 'notification', listener: (message: PgNotification) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'end', listener: () => void): unknown
  removeAllListeners(event?: string): unknown
}

/** The `pg` module, as `import('pg')` gives it (its CommonJS exports on `default`). */
export interface PgModule {
  Pool: new (config: { connectionString: string; max?: number; application_name?: string }) => PgPool
  Client: new (config: { connectionString: string; application_name?: string }) => PgClient
}
