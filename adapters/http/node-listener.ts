/**
 * toNodeListener(): serves a web-standard handler from `node:http` (and
 * Express, whose `app.use` takes the same listener). The response body is
 * written as the client reads it: a full socket buffer pauses the stream
 * until `drain`, the chunks already queued go out in one write, and a client
 * that goes away cancels the body and aborts the request's signal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SlowReaderError } from './event-stream-response.js'
import type { HttpHandler } from './handler.js'
import { resolveLogger, type Logger } from '../../src/logger.js'

/** A `node:http` request listener; Express also passes `next`, which is not used. */
export type NodeListener = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void

function headersOf(request: IncomingMessage): Headers {
  const headers = new Headers()
  const raw = request.rawHeaders
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] as string
    // HTTP/2 pseudo-headers (`:path`) are not headers a Request may carry.
    if (name.startsWith(':')) continue
    headers.append(name, raw[index + 1] as string)
  }
  return headers
}

/** The body a framework's parser already read (Express with `express.json()` in front). */
function parsedBody(request: IncomingMessage): RequestInit['body'] {
  const body = (request as IncomingMessage & { body?: unknown }).body
  if (body === undefined || !request.readableEnded) return undefined
  if (typeof body === 'string' || body instanceof Uint8Array) return body as RequestInit['body']
  return JSON.stringify(body)
}

/** Bytes of an unread body discarded after the response, so the client reads its answer; past this, the socket is closed. */
const discardLimit = 8 * 1024 * 1024

/**
 * The request body as a web stream, paused while the handler is not reading.
 * Cancelling it (a body over its cap) lets the rest flow away instead of
 * resetting the connection under a client that is still sending.
 */
function bodyStream(request: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        request.on('data', (chunk: Buffer) => {
          if (!open) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) request.pause()
        })
        request.once('end', () => {
          if (open) controller.close()
          open = false
        })
        request.once('error', (error) => {
          if (open) controller.error(error)
          open = false
        })
      },
      pull() {
        request.resume()
      },
      cancel() {
        open = false
        request.resume()
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  )
}

function urlOf(request: IncomingMessage): URL {
  const secure = (request.socket as { encrypted?: boolean }).encrypted === true
  const path = request.url ?? '/'
  const target = path.startsWith('/') ? path : `/${path}`
  try {
    return new URL(`${secure ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}${target}`)
  } catch {
    // A malformed Host header is the client's mistake; the path still routes.
    return new URL(`http://localhost${target}`)
  }
}

/** Methods a web `Request` refuses to carry (fetch's forbidden methods). */
const forbiddenMethods = new Set(['CONNECT', 'TRACE', 'TRACK'])

function toRequest(request: IncomingMessage, signal: AbortSignal): Request {
  const url = urlOf(request)
  const method = request.method ?? 'GET'
  if (forbiddenMethods.has(method.toUpperCase())) {
    // Built as a bodiless GET, then shows its real method, so the handler answers it (405) instead of the bridge failing.
    const stand = new Request(url, { method: 'GET', headers: headersOf(request), signal })
    Object.defineProperty(stand, 'method', { value: method, enumerable: true })
    return stand
  }
  const init: RequestInit & { duplex?: 'half' } = { method, headers: headersOf(request), signal }
  if (method !== 'GET' && method !== 'HEAD') {
    const parsed = parsedBody(request)
    if (parsed !== undefined) init.body = parsed
    else {
      init.body = bodyStream(request)
      init.duplex = 'half'
    }
  }
  return new Request(url, init)
}

/** Resolves on `drain` or `close`, or when the body fails (`onFailure` is given the callback), whichever comes first. */
function waitForDrain(response: ServerResponse, onFailure: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done)
      response.off('close', done)
      resolve()
    }
    response.on('drain', done)
    response.on('close', done)
    onFailure(done)
  })
}

async function writeResponse(result: Response, response: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  result.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = result.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  if (result.statusText === '') response.writeHead(result.status, headers)
  else response.writeHead(result.status, result.statusText, headers)
  const body = result.body
  if (body === null || response.req.method === 'HEAD') {
    await body?.cancel().catch(() => {})
    response.end()
    return
  }
  // A stream's headers go out now, so its client knows it is connected before the first frame.
  if (result.headers.get('content-type')?.startsWith('text/event-stream') === true) response.flushHeaders()
  const reader = body.getReader()
  // A body that fails while its client is not reading (one too far behind) must not wait for a drain that never comes.
  let failed = false
  let onFailed: (() => void) | undefined
  reader.closed.catch(() => {
    failed = true
    onFailed?.()
  })
  const whenFailed = (done: () => void): void => {
    if (failed) done()
    else onFailed = done
  }
  const onClose = (): void => {
    reader.cancel().catch(() => {})
  }
  response.once('close', onClose)
  let corked = false
  const uncork = (): void => {
    corked = false
    response.uncork()
  }
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (response.destroyed) return
      // The chunks already queued are read in this same run of microtasks: one socket write for them all.
      if (!corked) {
        corked = true
        response.cork()
        process.nextTick(uncork)
      }
      if (!response.write(value)) await waitForDrain(response, whenFailed)
    }
    response.end()
  } finally {
    response.off('close', onClose)
  }
}

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /** Where a response that could not be written is reported. @default consoleLogger */
  logger?: Logger
}

/** Bridges a web-standard handler to a `node:http` (or Express) request listener. */
export function toNodeListener(handler: HttpHandler, options: NodeListenerOptions = {}): NodeListener {
  if (typeof handler !== 'function') throw new TypeError(`Expected \`handler\` to be a function, got \`${typeof handler}\``)
  const logger = resolveLogger(options.logger)
  return (request, response) => {
    const abort = new AbortController()
    response.once('close', () => {
      if (!response.writableFinished) abort.abort()
    })
    response.once('finish', () => {
      if (request.complete) return
      // Node discards the unread rest of the body after the response; bound how much.
      let discarded = 0
      request.on('data', (chunk: Buffer) => {
        discarded += chunk.byteLength
        if (discarded > discardLimit) request.destroy()
      })
    })
    const serve = async (): Promise<void> => {
      const result = await handler(toRequest(request, abort.signal))
      await writeResponse(result, response)
    }
    serve().catch((error: unknown) => {
      if (abort.signal.aborted) return
      // The handler closed the event stream of a client too far behind: close its socket, with nothing to report.
      if (error instanceof SlowReaderError) return void response.destroy()
      logger.error(`hearth-runtime/http: could not serve ${String(request.method)} ${String(request.url)}`, error)
      if (!response.headersSent) {
        response.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' })
        response.end(JSON.stringify({ code: 'internal.error', message: 'Internal error', details: {}, trace_id: null }))
      } else response.destroy()
    })
  }
}
