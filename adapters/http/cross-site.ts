/**
 * Requests from pages of other sites. A browser lets any page send a
 * "simple" cross-site POST (a `text/plain` body needs no preflight) and
 * attaches whatever credentials it has; with auth off, that alone could
 * create runs and approve tool calls. So every write must come from the
 * server's own origin, from an origin the `cors` option allows, or from no
 * page at all (no `Origin`: curl, another server), and a body must be JSON.
 * The `cors` option also answers preflights and marks the answers a page
 * of an allowed origin may read.
 */
import { AuthError } from '../../src/errors.js'

/** The `cors` option of `createHttpHandler`: the pages of other origins that may call the API. */
export interface CorsOptions {
  /**
   * The origins allowed, as browsers send them in `Origin`
   * (`scheme://host[:port]`, e.g. `https://app.example.com`, `app://main`);
   * `'null'` allows opaque origins (pages from `file://`, sandboxed frames);
   * `'*'` allows every origin.
   */
  origins: readonly string[] | '*'
  /**
   * Lets pages send credentials (cookies, client certificates) and read the
   * answers: `Access-Control-Allow-Credentials: true`, and the origin echoed
   * instead of `*`.
   * @default false
   */
  credentials?: boolean
}

/** The `cors` option after validation. */
export interface CorsSettings {
  /** `origins: '*'`. */
  any: boolean
  /** The allowed origins, lowercase (empty with `any`). */
  origins: ReadonlySet<string>
  credentials: boolean
}

/** The request headers a page may send: the bearer token, the JSON body's type, an EventSource's resume point, a trace id. */
const allowedHeaders = 'Authorization, Content-Type, Last-Event-ID, X-Trace-Id, traceparent'
/** Seconds a browser may keep a preflight's answer. */
const preflightMaxAge = '600'

/** `scheme://host[:port]` of a URL, also for schemes the URL standard gives an opaque origin (`app://main`). */
function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`
}

function checkOrigin(origin: unknown): string {
  if (origin === 'null') return origin
  let normal: string | undefined
  try {
    normal = typeof origin === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(origin) ? originOf(new URL(origin)) : undefined
  } catch {
    normal = undefined
  }
  if (normal === undefined || normal !== (origin as string).toLowerCase()) {
    const hint = normal === undefined ? '' : ` (\`${normal}\`?)`
    throw new TypeError(`Expected each of \`cors.origins\` to be an origin such as 'https://app.example.com', or 'null', got \`${String(origin)}\`${hint}`)
  }
  return normal
}

/** Checks the `cors` option; a TypeError names what is wrong. */
export function corsSettingsOf(value: unknown): CorsSettings | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('Expected `cors` to be an object `{ origins, credentials? }`')
  const unknown = Object.keys(value).filter((key) => key !== 'origins' && key !== 'credentials')
  if (unknown.length > 0) throw new TypeError(`Unknown \`cors\` option \`${unknown[0]}\`: it takes \`origins\` and \`credentials\``)
  const { origins, credentials = false } = value as Partial<CorsOptions>
  if (typeof credentials !== 'boolean') throw new TypeError(`Expected \`cors.credentials\` to be a boolean, got \`${String(credentials)}\``)
  if (origins === '*') return { any: true, origins: new Set(), credentials }
  if (!Array.isArray(origins) || origins.length === 0) {
    throw new TypeError(`Expected \`cors.origins\` to be '*' or a non-empty array of origins, got \`${String(origins)}\``)
  }
  return { any: false, origins: new Set(origins.map(checkOrigin)), credentials }
}

/** True when the `cors` option allows `origin`. */
function allows(cors: CorsSettings | undefined, origin: string): boolean {
  return cors !== undefined && (cors.any || cors.origins.has(origin.toLowerCase()))
}

/**
 * Throws `auth.forbidden_origin` for a request (any but GET and HEAD) sent
 * by a page whose origin is neither the server's own nor one `cors` allows.
 * A request without `Origin` comes from no page and passes.
 */
export function checkWriteOrigin(request: Request, url: URL, method: string, cors: CorsSettings | undefined): void {
  if (method === 'GET' || method === 'HEAD') return
  const origin = request.headers.get('origin')
  if (origin === null || origin.toLowerCase() === originOf(url).toLowerCase() || allows(cors, origin)) return
  throw new AuthError(`Requests from pages of ${origin.slice(0, 100)} are not allowed`, {
    code: 'auth.forbidden_origin',
    details: { origin: origin.slice(0, 100) },
  })
}

/**
 * Adds the CORS headers to an answer: `Access-Control-Allow-Origin` for an
 * allowed origin (`*` when every origin is and credentials are not),
 * `Access-Control-Allow-Credentials`, the exposed `X-Trace-Id`, and
 * `Vary: Origin` when the answer depends on the origin.
 */
export function addCorsHeaders(response: Response, request: Request, cors: CorsSettings | undefined): Response {
  if (cors === undefined) return response
  const headers = response.headers
  const star = cors.any && !cors.credentials
  if (!star) headers.append('Vary', 'Origin')
  const origin = request.headers.get('origin')
  if (star) headers.set('Access-Control-Allow-Origin', '*')
  else if (origin !== null && allows(cors, origin)) headers.set('Access-Control-Allow-Origin', origin)
  else return response
  if (cors.credentials) headers.set('Access-Control-Allow-Credentials', 'true')
  headers.set('Access-Control-Expose-Headers', 'X-Trace-Id, traceparent')
  return response
}

/**
 * The answer to `OPTIONS` when `cors` is set: 204 with `Allow`, and for a
 * page of an allowed origin the preflight's methods, headers and max-age
 * ({@link addCorsHeaders} adds the origin). The origin was checked before,
 * like any write's.
 */
export function preflightResponse(request: Request, allowed: readonly string[], traceId: string, cors: CorsSettings): Response {
  const methods = allowed.join(', ')
  const headers: Record<string, string> = { Allow: methods, 'X-Trace-Id': traceId }
  const origin = request.headers.get('origin')
  if (origin !== null && allows(cors, origin)) {
    headers['Access-Control-Allow-Methods'] = methods
    headers['Access-Control-Allow-Headers'] = allowedHeaders
    headers['Access-Control-Max-Age'] = preflightMaxAge
  }
  return new Response(null, { status: 204, headers })
}
