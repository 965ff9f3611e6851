/**
 * One reader per live run for all the clients that follow it. A client
 * replays the log with a reader of its own; once it has caught up, it joins
 * the run's broadcast, which reads each event once, frames each batch once
 * and hands the same bytes to every follower. So a run followed by many
 * clients costs one reader and one write per client per batch, not a
 * reader, a wake-up and a write per client per event.
 */
import type { Runtime } from '../../src/runtime.js'
import { FrameBatches, joinFrames, type FrameBatch } from './frame-batches.js'

/** A batch as every follower gets it: its frames as one chunk, and each frame's size. */
export interface SharedBatch {
  /** The frames of the events `lastSeq - sizes.length + 1` to `lastSeq`; shared, so never written to. */
  chunk: Uint8Array
  sizes: readonly number[]
  lastSeq: number
  /** The run's events have ended. */
  done: boolean
}

/** A client following a run through its broadcast. */
export interface Follower {
  /** The seq of the last event the client has been given. */
  readonly cursor: number
  /** The next batch; the follower leaves out the frames it already has. */
  deliver(batch: SharedBatch): void
  /** The broadcast's reader failed (the run was deleted, the store failed). */
  fail(error: unknown): void
}

/** The broadcasts of one handler, by run id. */
export type Broadcasts = Map<string, RunBroadcast>

function shared(batch: FrameBatch): SharedBatch {
  return { chunk: joinFrames(batch.frames, batch.size), sizes: batch.frames.map((frame) => frame.byteLength), lastSeq: batch.lastSeq, done: batch.done }
}

/** The broadcast of one run: a reader of its events and the clients that follow them. */
export class RunBroadcast {
  readonly #followers = new Set<Follower>()
  readonly #abort = new AbortController()
  readonly #registry: Broadcasts
  readonly #runId: string
  /** The seq of the last event handed to the followers. */
  #delivered: number
  #ended = false

  constructor(runtime: Runtime, runId: string, afterSeq: number, options: { maxBytes: number; gapMs: number }, registry: Broadcasts) {
    this.#runId = runId
    this.#registry = registry
    this.#delivered = afterSeq
    registry.set(runId, this)
    const iterator = runtime.runEvents(runId, { afterSeq, signal: this.#abort.signal })[Symbol.asyncIterator]()
    void this.#read(new FrameBatches(iterator, { maxBytes: options.maxBytes, afterSeq, gapMs: options.gapMs }))
  }

  async #read(batches: FrameBatches): Promise<void> {
    for (;;) {
      let batch: FrameBatch
      try {
        batch = await batches.next()
      } catch (error) {
        if (this.#ended) return
        this.#end()
        for (const follower of [...this.#followers]) follower.fail(error)
        return
      }
      if (this.#ended) return
      // Out of the registry before the last batch: nobody joins a broadcast that has ended.
      if (batch.done) this.#end()
      this.#delivered = batch.lastSeq
      const out = shared(batch)
      for (const follower of [...this.#followers]) follower.deliver(out)
      if (batch.done) return
    }
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#registry.get(this.#runId) === this) this.#registry.delete(this.#runId)
    // Stops the reader and unsubscribes it; the run itself goes on.
    this.#abort.abort()
  }

  /** Adds `follower`, unless it has not yet had every event delivered so far (it would miss some): true when it joined. */
  join(follower: Follower): boolean {
    if (this.#ended || follower.cursor < this.#delivered) return false
    this.#followers.add(follower)
    return true
  }

  /** Removes `follower`; the last one to leave stops the broadcast. */
  leave(follower: Follower): void {
    this.#followers.delete(follower)
    if (this.#followers.size === 0) this.#end()
  }
}

/**
 * Joins the run's broadcast, made for it (starting after its cursor) if there
 * is none. Undefined when the client is behind the broadcast: it catches up
 * with its own reader and tries again.
 */
export function follow(registry: Broadcasts, runtime: Runtime, runId: string, follower: Follower, options: { maxBytes: number; gapMs: number }): RunBroadcast | undefined {
  const broadcast = registry.get(runId) ?? new RunBroadcast(runtime, runId, follower.cursor, options, registry)
  return broadcast.join(follower) ? broadcast : undefined
}
