/**
 * Session operations of the Runtime: create, get, list, update, delete, with
 * argument checks and org scoping.
 */
import type { Agent } from './agents.js'
import { NotFoundError, ValidationError } from './errors.js'
import type { JsonObject } from './events.js'
import { createId } from './ids.js'
import type { Caller, Session, SessionPatch, Store } from './store.js'
import { checkObject, optionalCaller, optionalJsonObject, optionalReference, optionalString, pageLimit } from './validate.js'

/** Options of `Runtime.createSession`. */
export interface CreateSessionOptions {
  /** The default agent of the session's runs: `key` or `key@version`; `''` and null mean the runtime's default agent. @default null */
  agent?: string | null
  /** @default 'default' */
  orgId?: string
  /** @default createdBy.userId, else null */
  userId?: string | null
  /** @default null */
  title?: string | null
  /** @default {} */
  metadata?: JsonObject
  /** The state tools see as `ctx.state`. @default {} */
  state?: JsonObject
  createdBy?: Caller
}

/** Options of `Runtime.listSessions`. */
export interface ListSessionsOptions {
  /** @default 'default' */
  orgId?: string
  userId?: string
  /** 1 to 100. @default 20 */
  limit?: number
  /** The id of the previous page's last session. */
  before?: string
}

/** What `Runtime.updateSession` may change. */
export interface UpdateSessionOptions {
  title?: string | null
  metadata?: JsonObject
  state?: JsonObject
  /** The default agent of the session's runs; `''` and null mean the runtime's default agent. */
  agent?: string | null
}

/** Scope of a call: the thing must belong to this org. */
export interface Scope {
  orgId?: string | undefined
}

/** What session operations need from the runtime. */
export interface SessionHost {
  store: Store
  resolveAgent(reference: string): Agent
  cancelSessionRuns(sessionId: string): Promise<void>
  assertOpen(): void
}

const updatableKeys = new Set(['title', 'metadata', 'state', 'agent'])

/** Session operations. */
export class Sessions {
  readonly #host: SessionHost

  constructor(host: SessionHost) {
    this.#host = host
  }

  async create(options: CreateSessionOptions = {}): Promise<Session> {
    this.#host.assertOpen()
    checkObject(options, 'options')
    const agent = optionalReference(options.agent, 'agent')
    const resolved = agent === undefined ? undefined : this.#host.resolveAgent(agent)
    const createdBy = optionalCaller(options.createdBy, 'createdBy') ?? null
    const userId = options.userId === null ? null : (optionalString(options.userId, 'userId') ?? createdBy?.userId ?? null)
    const title = options.title === null ? null : (optionalString(options.title, 'title') ?? null)
    const now = new Date().toISOString()
    const session: Session = {
      id: createId('thr'),
      orgId: optionalString(options.orgId, 'orgId', { nonEmpty: true }) ?? 'default',
      userId,
      type: resolved?.workflow !== undefined ? 'workflow' : resolved?.team !== undefined ? 'team' : 'agent',
      agent: agent ?? null,
      title,
      metadata: optionalJsonObject(options.metadata, 'metadata') ?? {},
      state: optionalJsonObject(options.state, 'state') ?? {},
      createdBy,
      activeRunId: null,
      contextSummary: null,
      createdAt: now,
      updatedAt: now,
    }
    await this.#host.store.insertSession(session)
    // The caller gets its own copy: a store may keep the object it was given.
    return JSON.parse(JSON.stringify(session)) as Session
  }

  async get(sessionId: string, scope: Scope = {}): Promise<Session> {
    if (typeof sessionId !== 'string' || sessionId === '') throw new ValidationError('Expected `sessionId` to be a non-empty string')
    const session = await this.#host.store.getSession(sessionId)
    if (session === undefined || (scope.orgId !== undefined && session.orgId !== scope.orgId)) {
      throw new NotFoundError('not_found.thread', `Session ${sessionId} does not exist`)
    }
    return session
  }

  async list(options: ListSessionsOptions = {}): Promise<Session[]> {
    checkObject(options, 'options')
    const orgId = optionalString(options.orgId, 'orgId', { nonEmpty: true }) ?? 'default'
    const userId = optionalString(options.userId, 'userId')
    const limit = pageLimit(options.limit)
    const before = optionalString(options.before, 'before', { nonEmpty: true })
    if (before !== undefined) {
      const cursor = await this.#host.store.getSession(before)
      if (cursor === undefined || cursor.orgId !== orgId) throw new ValidationError(`Unknown cursor \`before\`: ${before}`)
    }
    return this.#host.store.listSessions({ orgId, userId, limit, before })
  }

  async update(sessionId: string, changes: UpdateSessionOptions, scope: Scope = {}): Promise<Session> {
    this.#host.assertOpen()
    checkObject(changes, 'changes')
    for (const key of Object.keys(changes)) {
      if (!updatableKeys.has(key)) throw new ValidationError(`Unknown field \`${key}\`: a session update takes title, metadata, state and agent`)
    }
    await this.get(sessionId, scope)
    const patch: SessionPatch = { updatedAt: new Date().toISOString() }
    if (changes.title !== undefined) patch.title = changes.title === null ? null : (optionalString(changes.title, 'title') as string)
    const metadata = optionalJsonObject(changes.metadata, 'metadata')
    if (metadata !== undefined) patch.metadata = metadata
    const state = optionalJsonObject(changes.state, 'state')
    if (state !== undefined) patch.state = state
    if (changes.agent !== undefined) {
      const agent = optionalReference(changes.agent, 'agent') ?? null
      if (agent !== null) this.#host.resolveAgent(agent)
      patch.agent = agent
    }
    const updated = await this.#host.store.updateSession(sessionId, patch)
    if (updated === undefined) throw new NotFoundError('not_found.thread', `Session ${sessionId} does not exist`)
    return updated
  }

  async delete(sessionId: string, scope: Scope = {}): Promise<void> {
    this.#host.assertOpen()
    await this.get(sessionId, scope)
    await this.#host.cancelSessionRuns(sessionId)
    await this.#host.store.deleteSession(sessionId)
  }
}
