/**
 * Where hearth reports what it cannot throw to a caller: a heartbeat that
 * failed, a run that stopped on an unexpected error, a request the HTTP
 * adapter could not serve. `Runtime.open` and every adapter that logs take a
 * `logger` option; the default writes to the console.
 */

/** What hearth writes its warnings and errors to. Each call is a message, then details (errors, ids). */
export interface Logger {
  /** Something went wrong and hearth carried on (a price is unknown, a watcher threw). */
  warn(message: string, ...details: unknown[]): void
  /** Something failed that no caller will see as an error (a run stopped, a request could not be served). */
  error(message: string, ...details: unknown[]): void
}

/** The default logger: `console.warn` and `console.error`. */
export const consoleLogger: Logger = {
  warn: (message, ...details) => console.warn(message, ...details),
  error: (message, ...details) => console.error(message, ...details),
}

/** A logger that drops everything, for tests that provoke errors on purpose. */
export const silentLogger: Logger = {
  warn: () => {},
  error: () => {},
}

/** The `logger` option checked: an object with `warn` and `error` functions, else a TypeError. */
export function resolveLogger(value: unknown, name = 'logger'): Logger {
  if (value === undefined) return consoleLogger
  const candidate = value as Partial<Logger> | null
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.warn !== 'function' || typeof candidate.error !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be an object with \`warn\` and \`error\` functions`)
  }
  return candidate as Logger
}
