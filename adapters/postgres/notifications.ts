/**
 * Live across processes: every transaction that changes the store sends a
 * `NOTIFY` on the store's channel (`hearth_changes` by default), and each
 * process keeps one connection that `LISTEN`s to it. A payload carries only
 * who sent it and what changed, never data: `<sender> <runId>:<seq> ...`
 * (the runs a commit wrote and their last seq; a run without a seq when no
 * event was written; `*` for a change that is not a run's, such as a control
 * request, a claim or a run inserted without an owner; `~` when runs ended,
 * so their sessions may be free for runs another process queued on them). Readers look again by `after_seq`, so a lost or merged
 * notification costs a little latency, never an event. PostgreSQL drops
 * duplicate notifications of one transaction and delivers them only if it
 * commits.
 *
 * The listening connection reconnects after it is lost (a server restart),
 * waiting 100 ms, then twice as long each time up to a bound, and tells every
 * watcher to look again once it listens again: what changed meanwhile was not
 * announced. It must be a direct connection: PgBouncer in transaction mode
 * does not carry notifications.
 */
import type { Logger } from '../../src/logger.js'
import type { PgNotification } from './pg-types.js'

/** PostgreSQL's limit on a payload is 8000 bytes; ids are ASCII, so characters are bytes. */
const maxPayload = 7000

/**
 * The payloads announcing `changes` (run id to its last seq, if any) from
 * `sender`, each under the size limit; with `more`, the first also says `*`
 * (something besides the runs' logs changed), else with `freed` it says `~`
 * (runs ended: their sessions may be free).
 */
export function changePayloads(sender: string, changes: ReadonlyMap<string, number | undefined>, more = false, freed = false): string[] {
  const payloads: string[] = []
  let payload = more ? `${sender} *` : freed ? `${sender} ~` : sender
  for (const [runId, seq] of changes) {
    const entry = seq === undefined ? runId : `${runId}:${seq}`
    if (payload.length + entry.length + 1 > maxPayload) {
      payloads.push(payload)
      payload = sender
    }
    payload += ` ${entry}`
  }
  payloads.push(payload)
  return payloads
}

/** The sender of a payload (its first word). */
export function senderOf(payload: string): string {
  const space = payload.indexOf(' ')
  return space === -1 ? payload : payload.slice(0, space)
}

/** A connection that listens: made by the store, `LISTEN`ed on by {@link ChangeListener}. */
export interface ListenConnection {
  /** Runs a statement on the connection. */
  query(text: string): Promise<unknown>
  /** Calls `listener` for each notification. */
  onNotification(listener: (message: PgNotification) => void): void
  /** Calls `listener` once when the connection is lost (an error or its end). */
  onLost(listener: (error: unknown) => void): void
  /** Closes the connection. */
  close(): Promise<void>
}

interface Entry {
  listener: (runIds?: readonly string[], freed?: boolean) => void
}

/**
 * What a payload says changed: the runs it names, undefined when it names
 * something else too (`*`: anything may have changed); `freed` when it says
 * runs ended (`~`).
 */
export function changeOf(payload: string): { runIds: string[] | undefined; freed: boolean } {
  const words = payload.split(' ')
  const runIds: string[] = []
  let freed = false
  for (let index = 1; index < words.length; index++) {
    const word = words[index] as string
    if (word === '*' || word === '') return { runIds: undefined, freed: false }
    if (word === '~') {
      freed = true
      continue
    }
    const colon = word.indexOf(':')
    runIds.push(colon === -1 ? word : word.slice(0, colon))
  }
  return { runIds, freed }
}

/** Keeps one listening connection while anyone watches, and calls the watchers when another process changed the store. */
export class ChangeListener {
  readonly #connect: () => Promise<ListenConnection>
  readonly #channel: string
  readonly #instanceId: string
  readonly #logger: Logger
  readonly #maxDelayMs: number
  readonly #entries = new Set<Entry>()
  #connection: ListenConnection | undefined
  #connecting: Promise<void> | undefined
  #retry: ReturnType<typeof setTimeout> | undefined
  #delayMs = 100
  #closed = true
  #scheduled = false
  /** The runs the notifications of this turn named; undefined once one named something else (or the connection came back). */
  #changed: Set<string> | undefined = new Set()
  /** True once a notification of this turn said runs ended. */
  #freed = false

  constructor(options: { connect: () => Promise<ListenConnection>; channel: string; instanceId: string; logger: Logger; maxDelayMs: number }) {
    this.#connect = options.connect
    this.#channel = options.channel
    this.#instanceId = options.instanceId
    this.#logger = options.logger
    this.#maxDelayMs = options.maxDelayMs
  }

  /** True while the connection listens. */
  get listening(): boolean {
    return this.#connection !== undefined
  }

  /** Lets the listener connect (once someone watches): the store is open. */
  start(): void {
    this.#closed = false
    if (this.#entries.size > 0) this.#ensure()
  }

  /** Calls `listener` after other processes' changes, with the runs they wrote when the notifications named only runs (and `freed` when runs ended). Returns the function that stops it. */
  add(listener: (runIds?: readonly string[], freed?: boolean) => void): () => void {
    const entry: Entry = { listener }
    this.#entries.add(entry)
    this.#ensure()
    return () => {
      this.#entries.delete(entry)
    }
  }

  /** Resolves once the connection listens (or the store closed); for tests and the store's open. */
  async ready(): Promise<void> {
    while (this.#connecting !== undefined) await this.#connecting
  }

  /** Closes the connection and stops reconnecting. Watchers stay registered for a later `start()`. */
  async stop(): Promise<void> {
    this.#closed = true
    if (this.#retry !== undefined) clearTimeout(this.#retry)
    this.#retry = undefined
    await this.#connecting
    const connection = this.#connection
    this.#connection = undefined
    await connection?.close().catch(() => {})
  }

  #ensure(): void {
    if (this.#closed || this.#connection !== undefined || this.#connecting !== undefined || this.#retry !== undefined) return
    this.#connecting = this.#listen().finally(() => {
      this.#connecting = undefined
    })
  }

  async #listen(): Promise<void> {
    let connection: ListenConnection | undefined
    try {
      connection = await this.#connect()
      const current = connection
      connection.onNotification((message) => this.#notified(message))
      connection.onLost((error) => this.#lost(current, error))
      await connection.query(`LISTEN "${this.#channel}"`)
    } catch (error) {
      await connection?.close().catch(() => {})
      this.#logger.warn(`hearth: cannot listen on channel ${this.#channel}, trying again in ${this.#delayMs} ms`, error)
      this.#scheduleRetry()
      return
    }
    if (this.#closed) {
      await connection.close().catch(() => {})
      return
    }
    const reconnected = this.#delayMs > 100
    this.#connection = connection
    this.#delayMs = 100
    // Changes made while no connection listened were not announced: every watcher looks again.
    if (reconnected) this.#call(undefined)
  }

  #lost(connection: ListenConnection, error: unknown): void {
    if (this.#connection !== connection) return
    this.#connection = undefined
    void connection.close().catch(() => {})
    if (this.#closed) return
    this.#logger.warn(`hearth: lost the connection listening on channel ${this.#channel}; reconnecting`, error)
    this.#delayMs = Math.max(this.#delayMs, 200)
    this.#scheduleRetry(100)
  }

  #scheduleRetry(delayMs = this.#delayMs): void {
    if (this.#closed) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.#ensure()
    }, delayMs)
    this.#retry.unref?.()
    this.#delayMs = Math.min(this.#delayMs * 2, this.#maxDelayMs)
  }

  #notified(message: PgNotification): void {
    if (message.channel !== this.#channel) return
    const payload = message.payload ?? ''
    if (senderOf(payload) === this.#instanceId) return
    const change = changeOf(payload)
    this.#call(change.runIds, change.freed)
  }

  /** Calls every watcher once per turn of the event loop, however many notifications arrived in it, with the runs they named. */
  #call(runIds: readonly string[] | undefined, freed = false): void {
    if (runIds === undefined) this.#changed = undefined
    else if (this.#changed !== undefined) for (const runId of runIds) this.#changed.add(runId)
    if (freed) this.#freed = true
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      const changed = this.#changed === undefined ? undefined : [...this.#changed]
      const ended = this.#freed
      this.#changed = new Set()
      this.#freed = false
      for (const entry of [...this.#entries]) {
        try {
          entry.listener(changed, ended)
        } catch (error) {
          this.#logger.error('hearth: a store watcher threw', error)
        }
      }
    })
  }
}
