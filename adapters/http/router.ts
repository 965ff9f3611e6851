/**
 * The routes of the API: which path is which resource, and which methods
 * each takes. A path that is none of them is `not_found.path`; a known path
 * with another method is `validation.method` with an `Allow` list.
 */
import { NotFoundError, ValidationError } from '../../src/errors.js'

/** The resources the API serves. */
export type RouteName =
  | 'threads'
  | 'thread'
  | 'thread-runs'
  | 'thread-messages'
  | 'runs'
  | 'run'
  | 'run-cancel'
  | 'run-input'
  | 'run-events'
  | 'run-tree'
  | 'session-runs'
  | 'memories'
  | 'memory'
  | 'memory-topics'
  | 'agents'
  | 'routes'
  | 'inspector'
  | 'inspector-asset'
  | 'health'

/** The methods each resource takes; HEAD wherever GET is, answered like GET without a body. */
export const routeMethods: Readonly<Record<RouteName, readonly string[]>> = {
  threads: ['GET', 'HEAD', 'POST'],
  thread: ['GET', 'HEAD', 'PATCH', 'DELETE'],
  'thread-runs': ['GET', 'HEAD', 'POST'],
  'thread-messages': ['GET', 'HEAD', 'POST'],
  runs: ['GET', 'HEAD'],
  run: ['GET', 'HEAD'],
  'run-cancel': ['POST'],
  'run-input': ['POST'],
  'run-events': ['GET', 'HEAD'],
  'run-tree': ['GET', 'HEAD'],
  'session-runs': ['GET', 'HEAD'],
  memories: ['GET', 'HEAD', 'POST', 'DELETE'],
  memory: ['GET', 'HEAD', 'PATCH', 'DELETE'],
  'memory-topics': ['GET', 'HEAD'],
  agents: ['GET', 'HEAD'],
  routes: ['GET', 'HEAD'],
  inspector: ['GET', 'HEAD'],
  'inspector-asset': ['GET', 'HEAD'],
  health: ['GET', 'HEAD'],
}

/** A matched route and the id in its path. */
export interface RouteMatch {
  name: RouteName
  /** The thread, run or session id of the path ('' for collections). */
  id: string
}

function unknownPath(pathname: string): NotFoundError {
  return new NotFoundError('not_found.path', `No route for ${pathname}`)
}

function decodeSegments(path: string, pathname: string): string[] {
  try {
    return path.split('/').map((segment) => decodeURIComponent(segment))
  } catch {
    throw unknownPath(pathname)
  }
}

/** Finds the route of a path (below `basePath`); `not_found.path` when there is none. The inspector's paths are routes only `withInspector`. */
export function matchRoute(pathname: string, basePath: string, withInspector = false): RouteMatch {
  if (basePath !== '' && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) throw unknownPath(pathname)
  const rest = pathname.slice(basePath.length)
  if (!rest.startsWith('/')) throw unknownPath(pathname)
  const segments = decodeSegments(rest.slice(1), pathname)
  if (segments.some((segment) => segment === '')) throw unknownPath(pathname)
  const [first, second, third, fourth] = segments
  const length = segments.length
  if (first === 'sessions' && length === 3 && third === 'runs') return { name: 'session-runs', id: second as string }
  if (withInspector && first === 'inspector') {
    if (length === 1) return { name: 'inspector', id: '' }
    if (length === 2) return { name: 'inspector-asset', id: second as string }
  }
  // Agno AgentOS's memory routes, at its paths (not under /v1); `/memories/topics` is Agno's name for `/memory_topics`.
  if (first === 'memory_topics' && length === 1) return { name: 'memory-topics', id: '' }
  if (first === 'memories') {
    if (length === 1) return { name: 'memories', id: '' }
    if (length === 2) return second === 'topics' ? { name: 'memory-topics', id: '' } : { name: 'memory', id: second as string }
  }
  if (first !== 'v1' || length < 2 || length > 4) throw unknownPath(pathname)
  if (second === 'health' && length === 2) return { name: 'health', id: '' }
  if (second === 'agents' && length === 2) return { name: 'agents', id: '' }
  if (second === 'routes' && length === 2) return { name: 'routes', id: '' }
  if (second === 'threads') {
    if (length === 2) return { name: 'threads', id: '' }
    if (length === 3) return { name: 'thread', id: third as string }
    if (fourth === 'runs') return { name: 'thread-runs', id: third as string }
    if (fourth === 'messages') return { name: 'thread-messages', id: third as string }
  } else if (second === 'runs') {
    if (length === 2) return { name: 'runs', id: '' }
    if (length === 3) {
      const colon = (third as string).indexOf(':')
      if (colon === -1) return { name: 'run', id: third as string }
      const id = (third as string).slice(0, colon)
      if ((third as string).slice(colon + 1) === 'cancel' && id !== '') return { name: 'run-cancel', id }
    } else if (fourth === 'input') return { name: 'run-input', id: third as string }
    else if (fourth === 'events') return { name: 'run-events', id: third as string }
    else if (fourth === 'tree') return { name: 'run-tree', id: third as string }
  }
  throw unknownPath(pathname)
}

/** The methods a route takes, with OPTIONS when the handler answers preflights. */
export function allowedMethods(match: RouteMatch, withOptions: boolean): readonly string[] {
  const methods = routeMethods[match.name]
  return withOptions ? [...methods, 'OPTIONS'] : methods
}

/** Throws `validation.method` unless the route takes `method` (OPTIONS too when `withOptions`). */
export function checkMethod(match: RouteMatch, method: string, withOptions = false): void {
  const allowed = allowedMethods(match, withOptions)
  if (!allowed.includes(method)) {
    throw new ValidationError(`${method.slice(0, 40)} is not allowed here; use ${allowed.join(' or ')}`, {
      code: 'validation.method',
      details: { allow: [...allowed] },
    })
  }
}
