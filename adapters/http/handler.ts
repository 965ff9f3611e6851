/**
 * createHttpHandler(): a Runtime as a web-standard `(Request) => Promise<Response>`,
 * serving the Runs API and the Agno view of DESIGN.md section 6. It needs no
 * web framework: mount it with `toNodeListener` in `node:http` or Express, or
 * hand it requests from Hono, Next.js or Electron's `protocol.handle`.
 */
import { createTraceId } from '../../src/ids.js'
import type { Runtime } from '../../src/runtime.js'
import { listSessionRuns } from './agno-view.js'
import { anonymousCaller, identify, type Authenticate } from './auth.js'
import type { HandlerSettings, RequestContext } from './context.js'
import { addCorsHeaders, checkWriteOrigin, corsSettingsOf, preflightResponse, type CorsOptions, type CorsSettings } from './cross-site.js'
import { headRunEvents, streamRunEvents } from './event-stream-response.js'
import { checkHealth } from './health-route.js'
import { checkBodyType } from './request-body.js'
import { errorResponse } from './responses.js'
import { allowedMethods, checkMethod, matchRoute, type RouteName } from './router.js'
import { addMessage, listMessages } from './message-routes.js'
import { listAgents, listRoutes } from './catalog-routes.js'
import { inspectorAsset, inspectorPage } from './inspector/inspector-routes.js'
import { createMemory, deleteMemories, deleteMemory, getMemory, listMemories, listMemoryTopics, updateMemory } from './memory-routes.js'
import { cancelRun, getRun, getRunTree, listRuns, submitInput } from './run-routes.js'
import { createRun, createThread, deleteThread, getThread, listThreadRuns, listThreads, updateThread } from './thread-routes.js'
import { resolveLogger, type Logger } from '../../src/logger.js'

/** Options of {@link createHttpHandler}. */
export interface HttpHandlerOptions {
  /**
   * Checks the bearer token of `Authorization: Bearer <token>` and gives the
   * caller `{ org_id, user_id, name?, email? }`, or null to answer 401. Every
   * read and write is scoped to the caller's org.
   * @default undefined (no auth: every caller is `{ org_id: 'default', user_id: null }`)
   */
  authenticate?: Authenticate
  /**
   * Serve the inspector page at `{basePath}/inspector` (and its script and
   * style under `{basePath}/inspector/`): a page that lists threads and runs,
   * follows a run live, answers its input requests, cancels and starts runs.
   * The page needs no token and holds no data; it asks for the key.
   * @default false
   */
  inspector?: boolean
  /** A path prefix the routes live under, e.g. `/api` (no trailing slash). @default '' */
  basePath?: string
  /** Milliseconds between the `: ping` comments of an event stream. @default 15000 */
  pingIntervalMs?: number
  /** The largest request body read, in bytes; longer ones are 413. `/input` reads at most 256 KiB. @default 2097152 */
  maxBodyBytes?: number
  /**
   * The most bytes of event-stream frames waiting for one client that has
   * not read them. A client that follows a live run and falls further behind
   * (or has not taken a chunk for a whole ping interval) is closed: its
   * stream ends and its socket is closed, so no run waits for its readers;
   * reconnecting with `Last-Event-ID` loses nothing. Replaying the log never
   * counts: frames are made as fast as the client reads them.
   * @default 1048576
   */
  maxBufferedBytes?: number
  /** Where failures no client sees in full are reported: 5xx answers (with their trace id), broken event streams. @default consoleLogger */
  logger?: Logger
  /**
   * Pages of other origins (browsers, Electron renderers) allowed to call the
   * API: preflights (`OPTIONS`) are answered and answers carry
   * `Access-Control-Allow-Origin`. Writes from any other page's origin are
   * 403 `auth.forbidden_origin`, with or without this option.
   * @default undefined (only the server's own origin and requests without `Origin`; `OPTIONS` is 405)
   */
  cors?: CorsOptions
}

/** A web-standard request handler. */
export type HttpHandler = (request: Request) => Promise<Response>

type RouteHandler = (context: RequestContext) => Promise<Response>

const handlers: Readonly<Record<`${RouteName} ${string}`, RouteHandler>> = {
  'threads GET': listThreads,
  'threads POST': createThread,
  'thread GET': getThread,
  'thread PATCH': updateThread,
  'thread DELETE': deleteThread,
  'thread-runs GET': listThreadRuns,
  'thread-runs POST': createRun,
  'thread-messages GET': listMessages,
  'thread-messages POST': addMessage,
  'runs GET': listRuns,
  'run GET': getRun,
  'run-cancel POST': cancelRun,
  'run-input POST': submitInput,
  'run-events GET': streamRunEvents,
  'run-events HEAD': headRunEvents,
  'run-tree GET': getRunTree,
  'session-runs GET': listSessionRuns,
  'memories GET': listMemories,
  'memories POST': createMemory,
  'memories DELETE': deleteMemories,
  'memory GET': getMemory,
  'memory PATCH': updateMemory,
  'memory DELETE': deleteMemory,
  'memory-topics GET': listMemoryTopics,
  'agents GET': listAgents,
  'routes GET': listRoutes,
  'inspector GET': inspectorPage,
  'inspector-asset GET': inspectorAsset,
  'health GET': checkHealth,
}

/** HEAD of a GET route: the GET answer's status and headers, without its body. */
async function withoutBody(get: RouteHandler, context: RequestContext): Promise<Response> {
  const response = await get(context)
  await response.body?.cancel().catch(() => {})
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers })
}

const traceIdPattern = /^[0-9a-f]{32}$/
/** W3C trace context: version 00, a trace id and a parent span id, neither all zeros, and flags. */
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/** The trace id a request names: its `traceparent`'s (W3C trace context), else its `X-Trace-Id`; undefined when neither is valid. */
function incomingTraceId(request: Request): string | undefined {
  const parent = traceparentPattern.exec(request.headers.get('traceparent')?.trim().toLowerCase() ?? '')
  if (parent !== null && !/^0+$/.test(parent[1] as string) && !/^0+$/.test(parent[2] as string)) return parent[1]
  const incoming = request.headers.get('x-trace-id')?.toLowerCase()
  return incoming !== undefined && traceIdPattern.test(incoming) ? incoming : undefined
}

function settingsOf(options: HttpHandlerOptions): HandlerSettings {
  const basePath = options.basePath ?? ''
  if (typeof basePath !== 'string' || (basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/')))) {
    throw new TypeError(`Expected \`basePath\` to be '' or a path that starts with '/' and does not end with '/', got \`${String(basePath)}\``)
  }
  const pingIntervalMs = options.pingIntervalMs ?? 15_000
  if (typeof pingIntervalMs !== 'number' || !Number.isInteger(pingIntervalMs) || pingIntervalMs < 1 || pingIntervalMs > 2_147_483_647) {
    throw new TypeError(`Expected \`pingIntervalMs\` to be a positive integer of milliseconds, got \`${String(pingIntervalMs)}\``)
  }
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024
  if (typeof maxBodyBytes !== 'number' || !Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TypeError(`Expected \`maxBodyBytes\` to be a positive integer, got \`${String(maxBodyBytes)}\``)
  }
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
  if (typeof maxBufferedBytes !== 'number' || !Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes < 1) {
    throw new TypeError(`Expected \`maxBufferedBytes\` to be a positive integer, got \`${String(maxBufferedBytes)}\``)
  }
  const inspector = options.inspector ?? false
  if (typeof inspector !== 'boolean') throw new TypeError(`Expected \`inspector\` to be a boolean, got \`${String(inspector)}\``)
  return { basePath, pingIntervalMs, maxBodyBytes, maxBufferedBytes, logger: resolveLogger(options.logger), cors: corsSettingsOf(options.cors), inspector }
}

/** Serves `runtime` over HTTP: returns a web-standard `(Request) => Promise<Response>`. */
export function createHttpHandler(runtime: Runtime, options: HttpHandlerOptions = {}): HttpHandler {
  if (typeof runtime !== 'object' || runtime === null || typeof runtime.createRun !== 'function') {
    throw new TypeError('Expected `runtime` to be a Runtime')
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `options` to be an object')
  const authenticate = options.authenticate
  if (authenticate !== undefined && typeof authenticate !== 'function') {
    throw new TypeError(`Expected \`authenticate\` to be a function, got \`${typeof authenticate}\``)
  }
  const settings = settingsOf(options)
  const cors = settings.cors

  async function serve(request: Request, traceId: string): Promise<Response> {
    const url = new URL(request.url)
    const match = matchRoute(url.pathname, settings.basePath, settings.inspector)
    const method = request.method.toUpperCase()
    checkMethod(match, method, cors !== undefined)
    // Before auth: a page of another site never reaches `authenticate`.
    checkWriteOrigin(request, url, method, cors)
    if (method === 'OPTIONS') return preflightResponse(request, allowedMethods(match, true), traceId, cors as CorsSettings)
    // Health, and the inspector's page and files (which hold no data), need no token.
    const open = match.name === 'health' || match.name === 'inspector' || match.name === 'inspector-asset'
    const caller = open ? anonymousCaller : await identify(request, authenticate)
    if (method !== 'GET' && method !== 'HEAD') checkBodyType(request)
    const context: RequestContext = { runtime, request, url, caller, traceId, settings, id: match.id }
    const handler = handlers[`${match.name} ${method}`]
    if (handler !== undefined) return await handler(context)
    return await withoutBody(handlers[`${match.name} GET`] as RouteHandler, context)
  }

  return async function handle(request: Request): Promise<Response> {
    const traceId = incomingTraceId(request) ?? createTraceId()
    let response: Response
    try {
      response = await serve(request, traceId)
    } catch (error) {
      response = errorResponse(error, traceId, settings.logger)
    }
    return addCorsHeaders(response, request, cors)
  }
}
