/**
 * Every error hearth raises is a {@link HearthError} with a dotted `code`.
 * The same code appears in TypeScript, in `run.failed`, in `tool.result` and
 * on the wire, so a caller can branch on `error.code` wherever it meets one.
 */

/** Every error code hearth uses. */
export type ErrorCode =
  | 'validation.invalid'
  | 'validation.too_large'
  | 'validation.method'
  | 'validation.content_type'
  | 'auth.unauthorized'
  | 'auth.forbidden_origin'
  | 'auth.forbidden'
  | 'not_found.thread'
  | 'not_found.run'
  | 'not_found.agent'
  | 'not_found.model_route'
  | 'not_found.db'
  | 'not_found.path'
  | 'not_found.memory'
  | 'state.invalid'
  | 'state.thread_busy'
  | 'control.timeout'
  | 'run.max_turns'
  | 'run.output_invalid'
  | 'run.interrupted'
  | 'run.limit_exceeded'
  | 'run.depth_exceeded'
  | 'workflow.nondeterministic'
  | 'workflow.failed'
  | 'memory.timeout'
  | 'memory.invalid'
  | 'memory.abandoned'
  | 'tool.invalid_arguments'
  | 'tool.failed'
  | 'tool.denied'
  | 'tool.cancelled'
  | 'tool.interrupted'
  | 'tool.timeout'
  | 'mcp.unavailable'
  | 'mcp.protocol'
  | 'provider.auth'
  | 'provider.rate_limited'
  | 'provider.unavailable'
  | 'provider.context_length'
  | 'provider.bad_response'
  | 'provider.bad_request'
  | 'provider.timeout'
  | 'storage.busy'
  | 'storage.failed'
  | 'storage.conflict'
  | 'storage.corrupt'
  | 'storage.newer_schema'
  | 'dependency.missing'
  | 'internal.error'

/** The HTTP status each code maps to (codes that only appear inside events map to 500). */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  'validation.invalid': 400,
  'validation.too_large': 413,
  'validation.method': 405,
  'validation.content_type': 415,
  'auth.unauthorized': 401,
  'auth.forbidden_origin': 403,
  'auth.forbidden': 403,
  'not_found.thread': 404,
  'not_found.run': 404,
  'not_found.agent': 404,
  'not_found.model_route': 404,
  'not_found.db': 404,
  'not_found.path': 404,
  'not_found.memory': 404,
  'state.invalid': 409,
  'state.thread_busy': 409,
  'control.timeout': 504,
  'run.max_turns': 500,
  'run.output_invalid': 500,
  'run.interrupted': 500,
  'run.limit_exceeded': 500,
  'run.depth_exceeded': 500,
  'workflow.nondeterministic': 500,
  'workflow.failed': 500,
  'memory.timeout': 500,
  'memory.invalid': 500,
  'memory.abandoned': 500,
  'tool.invalid_arguments': 500,
  'tool.failed': 500,
  'tool.denied': 500,
  'tool.cancelled': 500,
  'tool.interrupted': 500,
  'tool.timeout': 500,
  'mcp.unavailable': 502,
  'mcp.protocol': 502,
  'provider.auth': 502,
  'provider.rate_limited': 502,
  'provider.unavailable': 502,
  'provider.context_length': 502,
  'provider.bad_response': 502,
  'provider.bad_request': 502,
  'provider.timeout': 504,
  'storage.busy': 503,
  'storage.failed': 500,
  'storage.conflict': 409,
  'storage.corrupt': 500,
  'storage.newer_schema': 500,
  'dependency.missing': 500,
  'internal.error': 500,
}

/** Options every hearth error takes. */
export interface HearthErrorOptions {
  /** Structured detail for the client (shown on the wire as `details`). @default {} */
  details?: Record<string, unknown>
  /** The underlying error, kept for logs. */
  cause?: unknown
}

/** The base class of every hearth error. */
export class HearthError extends Error {
  /** The dotted error code, e.g. `state.invalid`. */
  readonly code: ErrorCode
  /** Structured detail for the client. */
  readonly details: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: HearthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.details = options.details ?? {}
  }

  /** The `{ code, message }` pair stored in events and on runs. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

/** Malformed or wrongly typed input (`validation.invalid`, `validation.too_large`, `validation.method`, `validation.content_type`). */
export class ValidationError extends HearthError {
  constructor(
    message: string,
    options: HearthErrorOptions & { code?: 'validation.invalid' | 'validation.too_large' | 'validation.method' | 'validation.content_type' } = {},
  ) {
    super(options.code ?? 'validation.invalid', message, options)
  }
}

/**
 * A missing or rejected credential (`auth.unauthorized`), a write from a page
 * of another site (`auth.forbidden_origin`), or a caller bound to one user
 * asking for another user's memories (`auth.forbidden`).
 */
export class AuthError extends HearthError {
  constructor(message = 'Unauthorized', options: HearthErrorOptions & { code?: 'auth.unauthorized' | 'auth.forbidden_origin' | 'auth.forbidden' } = {}) {
    super(options.code ?? 'auth.unauthorized', message, options)
  }
}

/** An unknown thing, or another org's (`not_found.*`). */
export class NotFoundError extends HearthError {
  constructor(
    code: 'not_found.thread' | 'not_found.run' | 'not_found.agent' | 'not_found.model_route' | 'not_found.db' | 'not_found.path' | 'not_found.memory',
    message: string,
    options: HearthErrorOptions = {},
  ) {
    super(code, message, options)
  }
}

/** Not allowed in the current status (`state.invalid`, `state.thread_busy`). */
export class StateError extends HearthError {
  constructor(message: string, options: HearthErrorOptions & { code?: 'state.invalid' | 'state.thread_busy' } = {}) {
    super(options.code ?? 'state.invalid', message, options)
  }
}

/** Why a run failed (`run.max_turns`, `run.output_invalid`, `run.interrupted`). */
export class RunError extends HearthError {
  constructor(code: 'run.max_turns' | 'run.output_invalid' | 'run.interrupted' | 'run.limit_exceeded', message: string, options: HearthErrorOptions = {}) {
    super(code, message, options)
  }
}

/** Why a tool call has an error result (`tool.*`). */
export class ToolError extends HearthError {
  constructor(
    code: 'tool.invalid_arguments' | 'tool.failed' | 'tool.denied' | 'tool.cancelled' | 'tool.interrupted' | 'tool.timeout',
    message: string,
    options: HearthErrorOptions = {},
  ) {
    super(code, message, options)
  }
}

/** An MCP server could not serve a tool call (`mcp.unavailable`: not connected, restarting, gone; `mcp.protocol`: it answered outside the protocol). */
export class McpError extends HearthError {
  constructor(code: 'mcp.unavailable' | 'mcp.protocol', message: string, options: HearthErrorOptions = {}) {
    super(code, message, options)
  }
}

/** The codes a provider fails with. */
export type ProviderErrorCode =
  | 'provider.auth'
  | 'provider.rate_limited'
  | 'provider.unavailable'
  | 'provider.context_length'
  | 'provider.bad_response'
  | 'provider.bad_request'
  | 'provider.timeout'

/** The model provider failed (`provider.*`). Providers throw this. */
export class ProviderError extends HearthError {
  /** The HTTP status the provider answered with, when there was one. */
  readonly status: number | undefined
  /** How long the provider asked to wait before trying again (its `Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined

  constructor(code: ProviderErrorCode, message: string, options: HearthErrorOptions & { status?: number; retryAfterMs?: number } = {}) {
    super(code, message, options)
    this.status = options.status
    this.retryAfterMs = options.retryAfterMs
  }
}

/** The store failed (`storage.*`). */
export class StorageError extends HearthError {
  constructor(
    code: 'storage.busy' | 'storage.failed' | 'storage.conflict' | 'storage.corrupt' | 'storage.newer_schema',
    message: string,
    options: HearthErrorOptions = {},
  ) {
    super(code, message, options)
  }
}

/**
 * The `storage.conflict` of a commit (or claim) that would let a run hold a
 * session that another run holds, or that an older queued run of it waits
 * for: `details` is `{ reason: 'session_busy', session_id, run_id }`, with
 * the run in the way.
 */
export function sessionBusyError(sessionId: string, runId: string, blocker: string): StorageError {
  return new StorageError('storage.conflict', `Session ${sessionId} is busy: run ${blocker} holds it or is queued before run ${runId}`, {
    details: { reason: 'session_busy', session_id: sessionId, run_id: blocker },
  })
}

/**
 * The `storage.conflict` of inserting a second child run for one tool call
 * of a parent: `details` is `{ reason: 'child_exists', child_run_id }`, the
 * child that exists.
 */
export function childExistsError(parentRunId: string, toolCallId: string | null, existing: string): StorageError {
  return new StorageError('storage.conflict', `Run ${parentRunId} already has child ${existing} for tool call ${String(toolCallId)}`, {
    details: { reason: 'child_exists', child_run_id: existing },
  })
}

/** True for the error of {@link sessionBusyError}. */
export function isSessionBusy(error: unknown): boolean {
  return isHearthError(error) && error.code === 'storage.conflict' && error.details.reason === 'session_busy'
}

/** A cancel or input that the run's owner did not apply in time (`control.timeout`). */
export class ControlTimeoutError extends HearthError {
  constructor(message: string, options: HearthErrorOptions = {}) {
    super('control.timeout', message, options)
  }
}

/** An optional peer an adapter needs is not installed (`dependency.missing`); the message says what to install. */
export class DependencyError extends HearthError {
  constructor(message: string, options: HearthErrorOptions = {}) {
    super('dependency.missing', message, options)
  }
}

/** A bug in hearth or in user code it called: logged with its stack, never shown to a client. */
export class InternalError extends HearthError {
  constructor(message = 'Internal error', options: HearthErrorOptions = {}) {
    super('internal.error', message, options)
  }
}

/** True when `value` is a hearth error (also across duplicated module copies). */
export function isHearthError(value: unknown): value is HearthError {
  return (
    value instanceof HearthError ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { code?: unknown }).code === 'string' &&
      (value as { code: string }).code in httpStatusOf)
  )
}

/** The `{ code, message }` of any thrown value; unknown errors become `internal.error`. */
export function toErrorInfo(error: unknown): { code: ErrorCode; message: string } {
  if (isHearthError(error)) return { code: error.code, message: error.message }
  return { code: 'internal.error', message: 'Internal error' }
}
