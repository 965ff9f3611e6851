/**
 * Frames in batches: one wait for the next event, then every event that is
 * already there (a replayed page, a burst of deltas), or that arrives within
 * the gap after the previous batch, joins the same batch, which goes out as
 * one chunk in one socket write. An event's frame is encoded once per event
 * object, so a run's broadcast frames each event once for all its followers.
 */
import type { RunEvent } from '../../src/events.js'
import { eventToWire } from './wire.js'

/** One SSE frame for an event. */
export function eventFrame(event: RunEvent): string {
  return `id: ${event.seq}\ndata: ${JSON.stringify(eventToWire(event))}\n\n`
}

const encoder = new TextEncoder()
/** Encoded frames of the events still held somewhere (the run's log in memory, readers' buffers), shared by every stream. */
const encodedFrames = new WeakMap<RunEvent, Uint8Array>()

/** An event's frame as UTF-8, encoded once per event object; the bytes are shared, so never written to. */
export function encodedFrame(event: RunEvent): Uint8Array {
  let bytes = encodedFrames.get(event)
  if (bytes === undefined) {
    bytes = encoder.encode(eventFrame(event))
    encodedFrames.set(event, bytes)
  }
  return bytes
}

const notYet = Symbol('not yet')
// After the current I/O phase: every event already resolved has been taken by then.
const soon: (callback: () => void) => void = globalThis.setImmediate ?? ((callback) => setTimeout(callback, 0))

/** A batch of frames, and whether the events have ended. */
export interface FrameBatch {
  /** The encoded frames of consecutive events, shared with every other stream of the run: never written to. */
  frames: Uint8Array[]
  /** Their bytes together. */
  size: number
  /** The seq of the last event read (the last frame's, unless it was left out). */
  lastSeq: number
  /** The events have ended (the terminal event was the last). */
  done: boolean
  /** The batch stopped at its size cap with more events at hand: the reader is behind, not following. */
  full: boolean
}

/** A batch's frames as one chunk: the frame itself when there is one, else a copy of them all. */
export function joinFrames(frames: readonly Uint8Array[], size: number): Uint8Array {
  if (frames.length === 1) return frames[0] as Uint8Array
  const chunk = new Uint8Array(size)
  let offset = 0
  for (const frame of frames) {
    chunk.set(frame, offset)
    offset += frame.byteLength
  }
  return chunk
}

/** Options of {@link FrameBatches}. */
export interface FrameBatchesOptions {
  /** Bytes at which a batch stops, full, though more events are at hand. */
  maxBytes: number
  /** The seq the iterator starts after. */
  afterSeq: number
  /** Events up to this seq are read but left out of the batches. @default 0 */
  skipThrough?: number
  /** Milliseconds a batch that is not full waits after the previous one, gathering events. @default 0 */
  gapMs?: number
}

/** Reads an event iterator as batches of SSE frames, leaving out events up to `skipThrough`. */
export class FrameBatches {
  readonly #iterator: AsyncIterator<RunEvent>
  readonly #maxBytes: number
  readonly #skipThrough: number
  readonly #gapMs: number
  #pending: Promise<IteratorResult<RunEvent>> | undefined
  #lastBatchAt = 0
  #cursor: number

  /**
   * Reads `iterator`, which starts after `afterSeq`. A batch that is not full
   * goes out at least `gapMs` after the previous one, so a fast live run
   * costs one write per gap instead of one per event; the first event after
   * a quiet spell is not held.
   */
  constructor(iterator: AsyncIterator<RunEvent>, options: FrameBatchesOptions) {
    this.#iterator = iterator
    this.#maxBytes = options.maxBytes
    this.#cursor = options.afterSeq
    this.#skipThrough = options.skipThrough ?? 0
    this.#gapMs = options.gapMs ?? 0
  }

  /** The seq of the last event put in a batch or left out. */
  get cursor(): number {
    return this.#cursor
  }

  #tick(): Promise<typeof notYet> {
    const wait = this.#lastBatchAt + this.#gapMs - Date.now()
    return new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait, notYet) : soon(() => resolve(notYet))))
  }

  #batch(frames: Uint8Array[], size: number, done: boolean, full: boolean): FrameBatch {
    this.#lastBatchAt = Date.now()
    return { frames, size, lastSeq: this.#cursor, done, full }
  }

  /** Waits for one event, then adds those already available (or arriving within the gap), up to `maxBytes`. */
  async next(): Promise<FrameBatch> {
    const frames: Uint8Array[] = []
    let size = 0
    let tick: Promise<typeof notYet> | undefined
    for (;;) {
      const pending = this.#pending ?? this.#iterator.next()
      this.#pending = undefined
      let result: IteratorResult<RunEvent> | typeof notYet
      if (frames.length === 0) result = await pending
      else {
        tick ??= this.#tick()
        result = await Promise.race([pending, tick])
        if (result === notYet) {
          // Kept for the next batch; awaited there, so its failure is not lost.
          pending.catch(() => {})
          this.#pending = pending
          return this.#batch(frames, size, false, false)
        }
      }
      if (result.done === true) return this.#batch(frames, size, true, false)
      this.#cursor = result.value.seq
      if (result.value.seq <= this.#skipThrough) continue
      const frame = encodedFrame(result.value)
      frames.push(frame)
      size += frame.byteLength
      if (size >= this.#maxBytes) return this.#batch(frames, size, false, true)
    }
  }
}
