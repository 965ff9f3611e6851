/**
 * The parts of better-sqlite3 the store uses, as structural types. The store
 * loads better-sqlite3 only in `open()`, and its declarations never name the
 * package's types, so an app that uses hearth-runtime/sqlite needs neither
 * `@types/better-sqlite3` nor the package at compile time. A better-sqlite3
 * `Database` is assignable to {@link SqliteDatabase}.
 */

/** What a write through a statement changed. */
export interface SqliteRunResult {
  /** The number of rows the statement inserted, updated or deleted. */
  changes: number
  /** The rowid of the last row inserted. */
  lastInsertRowid: number | bigint
}

/** A prepared statement: the subset of better-sqlite3's `Statement` the store calls. */
export interface SqliteStatement {
  /** Runs a write; parameters bind in order. */
  run(...parameters: unknown[]): SqliteRunResult
  /** The first row, or undefined when there is none. */
  get(...parameters: unknown[]): unknown
  /** Every row. */
  all(...parameters: unknown[]): unknown[]
  /** Makes `get` and `all` return the first column's value instead of the row. */
  pluck(toggleState?: boolean): this
}

/** A connection: the subset of better-sqlite3's `Database` the store calls. */
export interface SqliteDatabase {
  /** The file name the connection was opened with (`':memory:'` or `''` for an in-memory database). */
  readonly name: string
  /** True for an in-memory database. */
  readonly memory: boolean
  /** True until `close()`. */
  readonly open: boolean
  /** True while a transaction is open on the connection. */
  readonly inTransaction: boolean
  /** True when the connection cannot write. */
  readonly readonly: boolean
  /** Prepares one SQL statement. */
  prepare(source: string): SqliteStatement
  /** Runs SQL text of any number of statements. */
  exec(source: string): unknown
  /** Runs a PRAGMA; with `simple`, returns the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean | undefined }): unknown
  /** Closes the connection. */
  close(): unknown
}

/** better-sqlite3's default export: the `Database` class. */
export interface SqliteDatabaseConstructor {
  new (filename: string, options?: { timeout?: number | undefined; fileMustExist?: boolean | undefined }): SqliteDatabase
}
