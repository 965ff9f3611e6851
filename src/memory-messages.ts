/**
 * The thread messages of the in-memory Store: each session's messages in
 * insertion order, and the check that a run takes only unanswered messages
 * of its own session.
 */
import { StorageError } from './errors.js'
import type { Commit, MessageQuery, Run, ThreadMessage } from './store.js'

const byIdDescending = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** Messages by id, and the messages of each session in insertion order. */
export class MemoryMessages {
  readonly #messages = new Map<string, ThreadMessage>()
  readonly #bySession = new Map<string, ThreadMessage[]>()

  /** Keeps a message of an existing session; a duplicate id fails with `storage.failed`. */
  insert(message: ThreadMessage): void {
    if (this.#messages.has(message.id)) throw new StorageError('storage.failed', `Message ${message.id} already exists`)
    const kept = { ...message }
    this.#messages.set(kept.id, kept)
    const list = this.#bySession.get(kept.sessionId)
    if (list === undefined) this.#bySession.set(kept.sessionId, [kept])
    else list.push(kept)
  }

  /** A copy of the message, or undefined. */
  get(id: string): ThreadMessage | undefined {
    const message = this.#messages.get(id)
    return message === undefined ? undefined : { ...message }
  }

  /** A page of a session's messages, newest first unless `order` is 'asc'. */
  list(query: MessageQuery): ThreadMessage[] {
    const ascending = query.order === 'asc'
    const result: ThreadMessage[] = []
    for (const message of this.#bySession.get(query.sessionId) ?? []) {
      if (query.unanswered === true && message.runId !== null) continue
      if (query.before !== undefined && (ascending ? message.id <= query.before : message.id >= query.before)) continue
      result.push(message)
    }
    result.sort(byIdDescending)
    if (ascending) result.reverse()
    return result.slice(0, query.limit).map((message) => ({ ...message }))
  }

  /**
   * The messages `answer` names, checked (each unanswered, of the run's
   * session, named once), to give to the run with `take` once the whole
   * commit is checked.
   */
  toAnswer(answer: NonNullable<Commit['answerMessages']>, run: Run | undefined): ThreadMessage[] {
    if (run === undefined) throw new StorageError('storage.failed', `Run ${answer.runId} does not exist`)
    if (new Set(answer.messageIds).size !== answer.messageIds.length) throw new StorageError('storage.failed', 'A message is named twice in `answerMessages`')
    return answer.messageIds.map((id) => {
      const message = this.#messages.get(id)
      if (message === undefined || message.sessionId !== run.sessionId) {
        throw new StorageError('storage.failed', `Message ${id} is not a message of session ${run.sessionId}`)
      }
      if (message.runId !== null) throw new StorageError('storage.conflict', `Message ${id} was already taken by run ${message.runId}`)
      return message
    })
  }

  /** Drops a deleted session's messages. */
  removeSession(sessionId: string): void {
    for (const message of this.#bySession.get(sessionId) ?? []) this.#messages.delete(message.id)
    this.#bySession.delete(sessionId)
  }
}
