/**
 * Frames in batches: one wait for the next event, then every event that is
 * already there (a replayed page, a burst of deltas) joins the same chunk,
 * so a busy stream costs one socket write per batch instead of one per event.
 */
import type { RunEvent } from '../../src/events.js'
import { eventToWire } from './wire.js'

/** One SSE frame for an event. */
export function eventFrame(event: RunEvent): string {
  return `id: ${event.seq}\ndata: ${JSON.stringify(eventToWire(event))}\n\n`
}

const notYet = Symbol('not yet')
// After the current I/O phase: every event already resolved has been taken by then.
const soon: (callback: () => void) => void = globalThis.setImmediate ?? ((callback) => setTimeout(callback, 0))

/** A batch of frames, and whether the events have ended. */
export interface FrameBatch {
  text: string
  done: boolean
}

/** Reads an event iterator as batches of SSE frames, leaving out events up to `skipThrough`. */
export class FrameBatches {
  readonly #iterator: AsyncIterator<RunEvent>
  readonly #maxChars: number
  readonly #skipThrough: number
  #pending: Promise<IteratorResult<RunEvent>> | undefined

  constructor(iterator: AsyncIterator<RunEvent>, maxChars: number, skipThrough = 0) {
    this.#iterator = iterator
    this.#maxChars = maxChars
    this.#skipThrough = skipThrough
  }

  /** Waits for one event, then adds those already available, up to `maxChars`. */
  async next(): Promise<FrameBatch> {
    let text = ''
    let tick: Promise<typeof notYet> | undefined
    for (;;) {
      const pending = this.#pending ?? this.#iterator.next()
      this.#pending = undefined
      let result: IteratorResult<RunEvent> | typeof notYet
      if (text === '') result = await pending
      else {
        tick ??= new Promise((resolve) => soon(() => resolve(notYet)))
        result = await Promise.race([pending, tick])
        if (result === notYet) {
          // Kept for the next batch; awaited there, so its failure is not lost.
          pending.catch(() => {})
          this.#pending = pending
          return { text, done: false }
        }
      }
      if (result.done === true) return { text, done: true }
      if (result.value.seq <= this.#skipThrough) continue
      text += eventFrame(result.value)
      if (text.length >= this.#maxChars) return { text, done: false }
    }
  }
}
