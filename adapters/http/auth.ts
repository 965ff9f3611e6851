/**
 * Who is calling: the bearer token of `Authorization`, checked by the
 * `authenticate` option. Every read and write is scoped to the caller's org.
 */
import { AuthError } from '../../src/errors.js'
import type { Caller } from '../../src/store.js'

/** The caller `authenticate` gives for a token. */
export interface HttpCaller {
  /** The org every read and write of the request is scoped to. */
  org_id: string
  /** Recorded as the runs' `created_by_user_id` and as the default `user_id` of new threads. */
  user_id: string | null
  /** Recorded as `created_by_user_name`. */
  name?: string
  /** Recorded as `created_by_email`. */
  email?: string
}

/** Checks a bearer token: the caller, or null to answer 401. It may be async. */
export type Authenticate = (token: string, request: Request) => HttpCaller | null | undefined | Promise<HttpCaller | null | undefined>

/** The caller of every request when there is no `authenticate`. */
export const anonymousCaller: HttpCaller = Object.freeze({ org_id: 'default', user_id: null })

const bearerPattern = /^Bearer[ ]+([^ ].*)$/i

/** The bearer token of a request, if it has one. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization')
  if (header === null) return undefined
  const match = bearerPattern.exec(header.trim())
  return match?.[1]?.trim()
}

function checkCaller(value: unknown): HttpCaller {
  const caller = value as Partial<HttpCaller>
  if (typeof caller !== 'object' || caller === null) throw new TypeError('Expected `authenticate` to return an object or null')
  if (typeof caller.org_id !== 'string' || caller.org_id === '') {
    throw new TypeError(`Expected \`authenticate\` to return a non-empty string \`org_id\`, got \`${String(caller.org_id)}\``)
  }
  if (caller.user_id !== null && typeof caller.user_id !== 'string') {
    throw new TypeError(`Expected \`authenticate\` to return \`user_id\` as a string or null, got \`${String(caller.user_id)}\``)
  }
  if (caller.name !== undefined && typeof caller.name !== 'string') throw new TypeError('Expected `authenticate` to return `name` as a string')
  if (caller.email !== undefined && typeof caller.email !== 'string') throw new TypeError('Expected `authenticate` to return `email` as a string')
  return caller as HttpCaller
}

/** The request's caller; `auth.unauthorized` without a token or when `authenticate` rejects it. */
export async function identify(request: Request, authenticate: Authenticate | undefined): Promise<HttpCaller> {
  if (authenticate === undefined) return anonymousCaller
  const token = bearerToken(request)
  if (token === undefined || token === '') throw new AuthError('Missing bearer token: send `Authorization: Bearer <token>`')
  const caller = await authenticate(token, request)
  if (caller === null || caller === undefined) throw new AuthError('The bearer token was rejected')
  return checkCaller(caller)
}

/** The caller as the core records it in `createdBy`. */
export function createdByOf(caller: HttpCaller): Caller {
  const createdBy: Caller = { userId: caller.user_id }
  if (caller.name !== undefined) createdBy.name = caller.name
  if (caller.email !== undefined) createdBy.email = caller.email
  return createdBy
}
