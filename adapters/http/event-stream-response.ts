/**
 * `GET /v1/runs/{run_id}/events`: a run's events as Server-Sent Events.
 *
 * Frames are `id: <seq>` and `data: <event JSON>`. The stream starts after
 * the larger of `after_seq` and `Last-Event-ID`, replays the log, follows the
 * run live and closes after the terminal event. The body is a pull-based
 * stream: the next chunk (the frames already available) is made only when
 * the client has taken the last one, so a slow client holds back its own
 * stream (and the runtime's reader falls back to the log) instead of making
 * the server buffer.
 */
import { isHearthError, ValidationError } from '../../src/errors.js'
import { isTerminalStatus } from '../../src/store.js'
import type { RequestContext } from './context.js'
import { FrameBatches, type FrameBatch } from './frame-batches.js'
import { emptyResponse } from './responses.js'

const encoder = new TextEncoder()
const pingFrame = encoder.encode(': ping\n\n')
/** Characters of frames sent in one chunk at most. */
const batchChars = 64 * 1024

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
  const { runtime, request, caller, traceId } = context
  const start = startSeq(context)
  const run = await runtime.getRun(context.id, { orgId: caller.org_id })
  if (isTerminalStatus(run.status) && run.lastSeq <= start) return emptyResponse(204, traceId)

  const abort = new AbortController()
  // Past the end of a live run: follow it from its last event, send only what comes after `start`, end with it.
  const iterator = runtime.runEvents(run.id, { afterSeq: Math.min(start, run.lastSeq), orgId: caller.org_id, signal: abort.signal })[Symbol.asyncIterator]()
  const batches = new FrameBatches(iterator, batchChars, start)
  let timer: ReturnType<typeof setInterval> | undefined
  let finished = false
  let cancelled = false
  const finish = (): void => {
    if (finished) return
    finished = true
    clearInterval(timer)
    request.signal.removeEventListener('abort', finish)
    // Stops the reader and unsubscribes it; the run itself goes on.
    abort.abort()
    iterator.return?.().catch(() => {})
  }
  request.signal.addEventListener('abort', finish, { once: true })

  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        timer = setInterval(() => {
          // At most one ping waits in the queue, however slow the client.
          if ((controller.desiredSize ?? -1) >= 0) controller.enqueue(pingFrame)
        }, context.settings.pingIntervalMs)
        timer.unref?.()
      },
      async pull(controller) {
        if (finished) return
        let batch: FrameBatch
        try {
          batch = await batches.next()
        } catch (error) {
          if (cancelled) return
          finish()
          // The run was deleted with its thread while we read: its stream just ends.
          if (isHearthError(error) && error.code.startsWith('not_found.')) return controller.close()
          context.settings.logger.error(`hearth-runtime/http: the event stream of run ${run.id} failed (trace ${traceId})`, error)
          controller.error(error)
          return
        }
        // The client may have gone while we waited: a cancelled stream takes nothing more.
        if (cancelled) return
        if (batch.text !== '') controller.enqueue(encoder.encode(batch.text))
        if (batch.done) {
          finish()
          controller.close()
        }
      },
      cancel() {
        cancelled = true
        finish()
      },
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: 200, headers: streamHeaders(traceId) })
}
