/**
 * `GET /v1/runs/{run_id}/events`: a run's events as Server-Sent Events.
 *
 * Frames are `id: <seq>` and `data: <event JSON>`. The stream starts after
 * the larger of `after_seq` and `Last-Event-ID`, replays the log, follows the
 * run live and closes after the terminal event.
 *
 * No reader holds a run back or makes the server buffer without bound.
 * While a client catches up (its last batch stopped at the size cap), it
 * has a reader of its own, the next batch is made only when it has taken
 * the last one, and the runtime's reader falls back to the log. Once it has
 * caught up, it follows the run through the run's broadcast
 * (`run-broadcast.ts`), which queues frames for it as events are committed;
 * a client that does not take them (or has not taken a batch for a whole
 * ping interval) is closed as soon as its unsent frames would pass
 * `maxBufferedBytes`, and reconnects with `Last-Event-ID` losing nothing.
 */
import { isHearthError, ValidationError } from '../../src/errors.js'
import { isTerminalStatus } from '../../src/store.js'
import type { HandlerSettings, RequestContext } from './context.js'
import { FrameBatches, joinFrames, type FrameBatch } from './frame-batches.js'
import { emptyResponse } from './responses.js'
import { follow, type Broadcasts, type Follower, type RunBroadcast, type SharedBatch } from './run-broadcast.js'

const pingFrame = new TextEncoder().encode(': ping\n\n')
/** Bytes of frames sent in one batch at most (less under a smaller `maxBufferedBytes`). */
const batchBytes = 64 * 1024
/** Milliseconds a live batch waits after the previous one, gathering events: a fast run costs a client one write per gap, at most this much later. */
const liveGapMs = 10
/** The run broadcasts of each handler. */
const handlerBroadcasts = new WeakMap<HandlerSettings, Broadcasts>()

/** Ends the stream of a client too far behind; the Node bridge closes its socket without a log line. */
export class SlowReaderError extends Error {
  constructor(maxBufferedBytes: number) {
    super(`The client took too long to read: more than ${maxBufferedBytes} bytes of frames were waiting for it`)
    this.name = 'SlowReaderError'
  }
}

/** A seq from the query or a header: a non-negative integer. */
function seqOf(value: string | null | undefined, name: string): number {
  if (value === null || value === undefined) return 0
  if (!/^[0-9]{1,15}$/.test(value)) {
    const message = `Expected ${name} to be a non-negative integer, got "${value.slice(0, 40)}"`
    throw new ValidationError(message, { details: { issues: [{ path: name, message }] } })
  }
  return Number(value)
}

/** Where the stream starts: after the larger of `after_seq` and `Last-Event-ID`. */
function startSeq(context: RequestContext): number {
  const lastEventId = context.request.headers.get('last-event-id')?.trim()
  return Math.max(seqOf(context.url.searchParams.get('after_seq'), 'after_seq'), seqOf(lastEventId === '' ? undefined : lastEventId, 'Last-Event-ID'))
}

/** The headers of an event stream. */
function streamHeaders(traceId: string): Record<string, string> {
  return {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
    'X-Trace-Id': traceId,
  }
}

/** `HEAD` of a run's events: the status and headers a GET would start with, without opening the stream. */
export async function headRunEvents(context: RequestContext): Promise<Response> {
  const start = startSeq(context)
  const run = await context.runtime.getRun(context.id, { orgId: context.caller.org_id })
  if (isTerminalStatus(run.status) && run.lastSeq <= start) return emptyResponse(204, context.traceId)
  return new Response(null, { status: 200, headers: streamHeaders(context.traceId) })
}

/** The SSE response of a run, or 204 when the run has ended and nothing is left to send. */
export async function streamRunEvents(context: RequestContext): Promise<Response> {
  const { runtime, request, caller, traceId, settings } = context
  const start = startSeq(context)
  const run = await runtime.getRun(context.id, { orgId: caller.org_id })
  if (isTerminalStatus(run.status) && run.lastSeq <= start) return emptyResponse(204, traceId)

  let broadcasts = handlerBroadcasts.get(settings)
  if (broadcasts === undefined) handlerBroadcasts.set(settings, (broadcasts = new Map()))
  const batchOptions = { maxBytes: Math.min(batchBytes, settings.maxBufferedBytes), gapMs: liveGapMs }
  const abort = new AbortController()
  // Past the end of a live run: follow it from its last event, send only what comes after `start`, end with it.
  const afterSeq = Math.min(start, run.lastSeq)
  const iterator = runtime.runEvents(run.id, { afterSeq, orgId: caller.org_id, signal: abort.signal })[Symbol.asyncIterator]()
  const batches = new FrameBatches(iterator, { ...batchOptions, afterSeq, skipThrough: start })
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let timer: ReturnType<typeof setInterval> | undefined
  let finished = false
  /** The broadcast this client follows, once it has caught up. */
  let broadcast: RunBroadcast | undefined
  /** The seq of the last event given to the client while it follows the broadcast. */
  let cursor = start
  /** The client is waiting for a batch, with nothing queued. */
  let wanted = false
  /** The client has asked for a batch since the last ping. */
  let pulled = false
  /** The client has not read for a whole ping interval: its own reader queues frames as they come. */
  let stalled = false
  let wake: (() => void) | undefined
  const rouse = (): void => {
    const resolve = wake
    wake = undefined
    resolve?.()
  }
  const finish = (): void => {
    if (finished) return
    finished = true
    clearInterval(timer)
    request.signal.removeEventListener('abort', finish)
    broadcast?.leave(follower)
    // Stops the client's own reader and unsubscribes it; the run itself goes on.
    abort.abort()
    iterator.return?.().catch(() => {})
    rouse()
  }
  request.signal.addEventListener('abort', finish, { once: true })

  /** Queues a chunk of frames, or closes the client when its unsent frames would pass the bound; false once the stream has ended. */
  const send = (chunk: Uint8Array | undefined, done: boolean): boolean => {
    if (chunk !== undefined && chunk.byteLength > 0) {
      const unsent = -(controller.desiredSize ?? 0)
      if (unsent > 0 && unsent + chunk.byteLength > settings.maxBufferedBytes) {
        finish()
        controller.error(new SlowReaderError(settings.maxBufferedBytes))
        return false
      }
      wanted = false
      controller.enqueue(chunk)
    }
    if (!done) return true
    finish()
    controller.close()
    return false
  }
  const fail = (error: unknown): void => {
    if (finished) return
    finish()
    // The run was deleted with its thread while we read: its stream just ends.
    if (isHearthError(error) && error.code.startsWith('not_found.')) return controller.close()
    settings.logger.error(`hearth-runtime/http: the event stream of run ${run.id} failed (trace ${traceId})`, error)
    controller.error(error)
  }
  const follower: Follower = {
    get cursor() {
      return cursor
    },
    deliver(batch: SharedBatch) {
      if (finished) return
      const first = batch.lastSeq - batch.sizes.length + 1
      let offset = 0
      for (let index = 0; index < cursor - first + 1 && index < batch.sizes.length; index++) offset += batch.sizes[index] as number
      cursor = Math.max(cursor, batch.lastSeq)
      const chunk = offset === 0 ? batch.chunk : batch.chunk.subarray(offset)
      send(chunk, batch.done)
    },
    fail,
  }

  /** Catches up with the client's own reader, then hands over to the run's broadcast. */
  async function pump(): Promise<void> {
    for (;;) {
      if (!stalled && !wanted) await new Promise<void>((resolve) => (wake = resolve))
      if (finished) return
      if (!stalled && !wanted) continue
      let batch: FrameBatch
      try {
        batch = await batches.next()
      } catch (error) {
        return fail(error)
      }
      // The client may have gone while we waited: a cancelled stream takes nothing more.
      if (finished) return
      if (!send(batch.size === 0 ? undefined : joinFrames(batch.frames, batch.size), batch.done)) return
      if (batch.full) continue
      // Caught up: from here the broadcast brings every event after the cursor.
      cursor = batches.cursor
      broadcast = follow(broadcasts as Broadcasts, runtime, run.id, follower, batchOptions)
      if (broadcast === undefined) continue
      abort.abort()
      iterator.return?.().catch(() => {})
      return
    }
  }

  let pumping = false
  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController
        timer = setInterval(() => {
          // At most one ping waits in the queue, however slow the client.
          if ((controller.desiredSize ?? -1) >= 0) controller.enqueue(pingFrame)
          else if (!pulled && !stalled && broadcast === undefined) {
            // A batch left unread for a whole interval: the client is not reading, so what it misses from now on counts.
            stalled = true
            rouse()
          }
          pulled = false
        }, settings.pingIntervalMs)
        timer.unref?.()
      },
      pull() {
        wanted = true
        pulled = true
        stalled = false
        if (pumping) return rouse()
        pumping = true
        pump().catch(fail)
      },
      cancel() {
        finish()
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  )
  return new Response(body, { status: 200, headers: streamHeaders(traceId) })
}
