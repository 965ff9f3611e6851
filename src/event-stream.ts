/**
 * Subscriptions as async iterables. `EventHub` fans committed events out to
 * live readers; `readRunEvents` replays a run's log from the store and then
 * follows it live, with no gap and no duplicate, and never buffers without
 * bound: a reader that falls behind drops its live buffer and reads the log
 * again from where it was.
 */
import { EventEmitter } from 'eventemitter3'
import { NotFoundError } from './errors.js'
import { isTerminalEvent, type RunEvent } from './events.js'
import { isTerminalStatus, type Store } from './store.js'

const allRuns = '*'

/** Fans committed events out to subscribers. */
export class EventHub {
  /** The readers of runs executed elsewhere, by run id. */
  readonly #pokes = new Map<string, Set<() => void>>()
  readonly #emitter = new EventEmitter()
  /** True once the store can report changes by other processes (`Store.watch`): only then do readers listen for pokes. */
  watching = false

  /** Gets every committed batch first (telemetry); none by default. */
  observer: ((events: readonly RunEvent[]) => void) | undefined

  /** Passes committed events to their run's subscribers and to the global feed. */
  publish(events: readonly RunEvent[]): void {
    this.observer?.(events)
    const emitter = this.#emitter
    for (const event of events) {
      emitter.emit(event.runId, event)
      emitter.emit(allRuns, event)
    }
  }

  /**
   * Tells readers of runs executed elsewhere that the store changed, so they
   * read it again: the readers of `runIds` (the runs another process wrote,
   * when the store says which), else every one.
   */
  poke(runIds?: readonly string[]): void {
    if (runIds === undefined) {
      for (const listeners of [...this.#pokes.values()]) for (const listener of [...listeners]) listener()
      return
    }
    for (const runId of runIds) {
      const listeners = this.#pokes.get(runId)
      if (listeners !== undefined) for (const listener of [...listeners]) listener()
    }
  }

  /** Calls `listener` on each `poke()` that may concern `runId`. Returns the unsubscribe. */
  onStoreChange(runId: string, listener: () => void): () => void {
    // Sets, not the emitter: every reader of a run not executed here adds one, and a Set is cheaper.
    let listeners = this.#pokes.get(runId)
    if (listeners === undefined) this.#pokes.set(runId, (listeners = new Set()))
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0 && this.#pokes.get(runId) === listeners) this.#pokes.delete(runId)
    }
  }

  /** How many readers listen to `runId`: to its events (`'*'`: the global feed), and to store changes. For diagnostics and tests of unsubscribing. */
  listenerCount(runId: string): { events: number; storeChanges: number } {
    return { events: this.#emitter.listenerCount(runId), storeChanges: this.#pokes.get(runId)?.size ?? 0 }
  }

  /** Calls `listener` for each committed event of `runId` (`'*'`: of every run). Returns the unsubscribe. */
  subscribe(runId: string, listener: (event: RunEvent) => void): () => void {
    this.#emitter.on(runId, listener)
    return () => {
      this.#emitter.off(runId, listener)
    }
  }
}

/** A bounded queue of live events for one reader. */
class LiveBuffer {
  readonly events: RunEvent[] = []
  head = 0
  overflowed = false
  /** The store changed under a run executed elsewhere: read the log again. */
  changed = false
  #wake: (() => void) | undefined
  readonly #limit: number

  constructor(limit: number) {
    this.#limit = limit
  }

  readonly push = (event: RunEvent): void => {
    if (this.overflowed) return
    if (this.events.length - this.head >= this.#limit) {
      // Too far behind: forget the buffer, the reader goes back to the log.
      this.overflowed = true
      this.events.length = 0
      this.head = 0
    } else {
      this.events.push(event)
    }
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  readonly poke = (): void => {
    this.changed = true
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  next(): RunEvent | undefined {
    if (this.head >= this.events.length) {
      if (this.head > 0) {
        this.events.length = 0
        this.head = 0
      }
      return undefined
    }
    return this.events[this.head++]
  }

  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (signal === undefined) {
        this.#wake = resolve
        return
      }
      if (signal.aborted) return resolve()
      const onAbort = (): void => resolve()
      // Woken by an event: take the abort listener off, or they pile up on a long stream.
      this.#wake = () => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/** Options of a run's event stream. */
export interface RunEventsOptions {
  /** Start after this seq (0: from the first event). @default 0 */
  afterSeq?: number
  /** Live events buffered per reader before it falls back to reading the log. @default 1024 */
  bufferLimit?: number
  /** Ends the iteration early when aborted. */
  signal?: AbortSignal
}

const pageSize = 256

/** What a runtime knows of the runs it executes, for their readers. */
export interface LiveRuns {
  /** True while this runtime executes the run: its events reach readers through the hub. */
  isLive(runId: string): boolean
  /** The run's committed events held in memory, seq 1 at index 0; undefined when none are held. */
  committed(runId: string): readonly RunEvent[] | undefined
}

const noLiveRuns: LiveRuns = { isLive: () => false, committed: () => undefined }

/**
 * A run's events after `afterSeq`: replayed from the store, then live, ending
 * after the terminal event. Throws `not_found.run` for an unknown run.
 */
export async function* readRunEvents(
  store: Store,
  hub: EventHub,
  runId: string,
  options: RunEventsOptions = {},
  live: LiveRuns = noLiveRuns,
): AsyncGenerator<RunEvent> {
  let cursor = Math.max(0, Math.floor(options.afterSeq ?? 0))
  const limit = options.bufferLimit ?? 1024
  const signal = options.signal
  for (;;) {
    const buffer = new LiveBuffer(limit)
    const unsubscribe = hub.subscribe(runId, buffer.push)
    // Pokes are for runs written elsewhere: a run this runtime executes reaches its readers through the hub.
    const unpoke = hub.watching && !live.isLive(runId) ? hub.onStoreChange(runId, buffer.poke) : undefined
    try {
      // Catch up: from the events the runtime holds for a run it executes (they grow while we
      // yield, and the buffer has whatever comes after), else from the log. Subscribing first
      // means nothing committed meanwhile is missed.
      const held = live.committed(runId)
      if (held !== undefined) {
        for (let index = cursor; index < held.length; index++) {
          const event = held[index] as RunEvent
          cursor = event.seq
          yield event
          if (isTerminalEvent(event)) return
          if (signal?.aborted) return
        }
      } else {
        for (;;) {
          const page = await store.readEvents(runId, cursor, pageSize)
          for (const event of page) {
            if (event.seq !== cursor + 1) continue
            cursor = event.seq
            yield event
            if (isTerminalEvent(event)) return
            if (signal?.aborted) return
          }
          if (page.length < pageSize) break
        }
      }
      // Anything committed after the subscription is in the buffer, so only a
      // finished run whose end we are past (or an unknown run) stops here.
      if (!live.isLive(runId)) {
        const run = await store.getRun(runId)
        if (run === undefined) throw new NotFoundError('not_found.run', `Run ${runId} does not exist`)
        if (isTerminalStatus(run.status) && cursor >= run.lastSeq) return
      }
      // Live.
      for (;;) {
        if (signal?.aborted) return
        if (buffer.overflowed) break
        if (buffer.changed) {
          buffer.changed = false
          // Another process writes this run: its events reach us through the store only.
          if (!live.isLive(runId)) break
        }
        const event = buffer.next()
        if (event === undefined) {
          await buffer.wait(signal)
          continue
        }
        if (event.seq <= cursor) continue
        if (event.seq !== cursor + 1) break
        cursor = event.seq
        yield event
        if (isTerminalEvent(event)) return
      }
    } finally {
      unsubscribe()
      unpoke?.()
    }
  }
}

/** Options of the global feed. */
export interface FeedOptions {
  /** Events buffered before the oldest are dropped. @default 10000 */
  bufferLimit?: number
  /** Ends the iteration when aborted. */
  signal?: AbortSignal
}

/**
 * Every event committed after this call, of every run. A consumer more than
 * `bufferLimit` events behind loses the oldest; each event carries `runId` and
 * `seq`, so `runEvents(runId, { afterSeq })` fills any hole exactly. The
 * subscription starts at once (not at the first `next()`), and ends on
 * `return()` (a `break` out of `for await`) or when `signal` aborts.
 */
export function readAllEvents(hub: EventHub, options: FeedOptions = {}): AsyncIterableIterator<RunEvent> {
  const limit = options.bufferLimit ?? 10_000
  const signal = options.signal
  let queue: RunEvent[] = []
  let head = 0
  let wake: (() => void) | undefined
  let done = false
  const unsubscribe = hub.subscribe(allRuns, (event) => {
    if (queue.length - head >= limit) head++
    queue.push(event)
    const resolve = wake
    wake = undefined
    resolve?.()
  })
  const finish = (): IteratorResult<RunEvent> => {
    if (!done) {
      done = true
      unsubscribe()
      queue = []
      wake?.()
    }
    return { done: true, value: undefined }
  }
  signal?.addEventListener('abort', () => finish(), { once: true })
  if (signal?.aborted) finish()
  return {
    async next(): Promise<IteratorResult<RunEvent>> {
      for (;;) {
        if (done) return { done: true, value: undefined }
        if (head < queue.length) {
          const event = queue[head++] as RunEvent
          if (head > 4096 && head * 2 > queue.length) {
            queue.splice(0, head)
            head = 0
          }
          return { done: false, value: event }
        }
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
    },
    async return(): Promise<IteratorResult<RunEvent>> {
      return finish()
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}
