/**
 * What every route handler receives: the runtime, the request, its caller
 * and trace id, and the handler's settings.
 */
import type { Logger } from '../../src/logger.js'
import type { Runtime } from '../../src/runtime.js'
import type { HttpCaller } from './auth.js'
import type { CorsSettings } from './cross-site.js'

/** The settings of a handler after validation. */
export interface HandlerSettings {
  basePath: string
  pingIntervalMs: number
  maxBodyBytes: number
  maxBufferedBytes: number
  logger: Logger
  /** The pages of other origins allowed; undefined: none. */
  cors: CorsSettings | undefined
  /** Whether the inspector page is served. */
  inspector: boolean
}

/** One request on its way through the handler. */
export interface RequestContext {
  runtime: Runtime
  request: Request
  url: URL
  caller: HttpCaller
  /** The id sent back as `X-Trace-Id` and `trace_id`. */
  traceId: string
  settings: HandlerSettings
  /** The thread, run or session id in the path ('' for collections). */
  id: string
}

/** The body cap of `/input`: its `content` is at most 32,768 bytes, so the body needs little more. */
export const inputBodyBytes = 256 * 1024
