/**
 * Thread messages (Arkloop's flow): a user's message waits in its thread,
 * unanswered, until a run created without `input` takes it when it starts.
 * This file adds and lists them, with argument checks and org scoping, and
 * has what `createRun` and a starting run need to find the unanswered ones.
 */
import { StateError, ValidationError } from './errors.js'
import { createId } from './ids.js'
import type { Scope } from './sessions.js'
import type { Session, Store, ThreadMessage } from './store.js'
import { checkObject, checkWellFormed, optionalString, pageLimit, utf8Length } from './validate.js'

/** Options of `Runtime.addMessage`. */
export interface AddMessageOptions {
  /** The user's message: at most `maxInputBytes` of UTF-8, like a run's `input`. */
  content: string
  /** Scope: the session must belong to this org. @default any org */
  orgId?: string
}

/** Options of `Runtime.listMessages`. */
export interface ListMessagesOptions {
  /** 1 to 100. @default 20 */
  limit?: number
  /** The id of the previous page's last message (a message of the same session). @default none: the newest */
  before?: string
  /** Scope: the session must belong to this org. @default any org */
  orgId?: string
}

/** What message operations need from the runtime. */
export interface MessageHost {
  store: Store
  getSession(sessionId: string, scope: Scope): Promise<Session>
  assertOpen(): void
  maxInputBytes: number
}

/** How many unanswered messages a starting run reads per page. */
const takePage = 100

/** Message operations. */
export class Messages {
  readonly #host: MessageHost

  constructor(host: MessageHost) {
    this.#host = host
  }

  async add(sessionId: string, options: AddMessageOptions): Promise<ThreadMessage> {
    this.#host.assertOpen()
    const body = checkObject(options, 'options')
    if (typeof body.content !== 'string') throw new ValidationError('Expected `content` to be a string')
    const content = body.content
    checkWellFormed(content, 'content')
    const max = this.#host.maxInputBytes
    if (utf8Length(content) > max) throw new ValidationError(`\`content\` is larger than ${max} bytes`, { code: 'validation.too_large' })
    const orgId = optionalString(body.orgId, 'orgId')
    const session = await this.#host.getSession(sessionId, { orgId })
    const message: ThreadMessage = { id: createId('msg'), sessionId: session.id, role: 'user', content, runId: null, createdAt: new Date().toISOString() }
    await this.#host.store.insertMessage(message)
    // The caller gets its own copy: a store may keep the object it was given.
    return { ...message }
  }

  async list(sessionId: string, options: ListMessagesOptions = {}): Promise<ThreadMessage[]> {
    const body = checkObject(options, 'options')
    const limit = pageLimit(body.limit)
    const before = optionalString(body.before, 'before', { nonEmpty: true })
    const session = await this.#host.getSession(sessionId, { orgId: optionalString(body.orgId, 'orgId') })
    if (before !== undefined) {
      const cursor = await this.#host.store.getMessage(before)
      if (cursor === undefined || cursor.sessionId !== session.id) throw new ValidationError(`Unknown cursor \`before\`: ${before}`)
    }
    return this.#host.store.listMessages({ sessionId: session.id, limit, before })
  }
}

/** `state.invalid` unless the session has a message no run has taken. */
export async function assertUnansweredMessage(store: Store, sessionId: string): Promise<void> {
  const [message] = await store.listMessages({ sessionId, unanswered: true, limit: 1 })
  if (message === undefined) {
    throw new StateError(`Session ${sessionId} has no unanswered message: add one first, or give the run an \`input\``)
  }
}

/** Every message of the session no run has taken, oldest first. */
export async function unansweredMessages(store: Store, sessionId: string): Promise<ThreadMessage[]> {
  const messages: ThreadMessage[] = []
  for (;;) {
    const before = messages.at(-1)?.id
    const page = await store.listMessages({ sessionId, unanswered: true, order: 'asc', limit: takePage, ...(before === undefined ? {} : { before }) })
    messages.push(...page)
    if (page.length < takePage) return messages
  }
}

/** The input of a run that answers `messages`: their contents, oldest first, joined by a blank line. */
export function joinedInput(messages: readonly ThreadMessage[]): string {
  return messages.map((message) => message.content).join('\n\n')
}
