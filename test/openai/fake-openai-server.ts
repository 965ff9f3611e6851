/**
 * A local server on 127.0.0.1 that speaks OpenAI's wire format: JSON error
 * answers, and streams of SSE `data:` chunks (Chat Completions, ending with
 * `data: [DONE]`) or `event:` + `data:` frames (Responses API). Each request
 * takes the next queued reply, else the default handler's. It records what it
 * was sent, and notices when a client closes its connection mid-reply.
 *
 * Used by the wire tests, the ModelProvider contract and examples/openai-compatible.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One step of a streamed reply. */
export type SseStep =
  /** A `data:` frame; objects are sent as JSON, strings as they are. */
  | { data: unknown; event?: string }
  /** Bytes written as they are (a malformed chunk, a comment). */
  | { raw: string }
  /** The `data: [DONE]` frame that ends a Chat Completions stream. */
  | { done: true }
  | { delay: number }
  /** Destroys the connection here, as a crashed server or a dropped network would. */
  | { cut: true }
  /** Stops writing and keeps the connection open. */
  | { stall: true }

/** How the server answers one request. */
export type FakeReply =
  | { status: number; body?: unknown; headers?: Record<string, string>; delay?: number }
  | { stream: readonly SseStep[]; headers?: Record<string, string> }
  /** Never answers (for timeouts). */
  | { hang: true }

/** A request the server received. */
export interface RecordedRequest {
  method: string
  /** The path without the query, e.g. `/v1/chat/completions`. */
  path: string
  headers: IncomingMessage['headers']
  /** The parsed JSON body (undefined when empty). */
  body: any
}

/** A running fake server. */
export interface FakeOpenAIServer {
  /** The base URL to give the client, ending in `/v1`. */
  readonly baseURL: string
  /** Every request received, in order. */
  readonly requests: RecordedRequest[]
  /** Requests whose client closed the connection before the reply ended. */
  readonly closedByClient: RecordedRequest[]
  /** Queues replies, one per coming request. */
  enqueue(...replies: FakeReply[]): void
  /** Answers requests when the queue is empty. @default 404 with an OpenAI error body */
  setDefault(handler: (request: RecordedRequest) => FakeReply): void
  /** Forgets requests, queued replies and the default handler, between tests. */
  reset(): void
  /** Resolves when a client closes a connection mid-reply (at once if one already did). */
  waitForClientClose(timeoutMs?: number): Promise<RecordedRequest>
  close(): Promise<void>
}

const notFound: FakeReply = {
  status: 404,
  body: { error: { message: 'No reply was queued for this request', type: 'invalid_request_error', param: null, code: null } },
}

function readBody(request: IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    request.on('data', (part: Buffer) => parts.push(part))
    request.on('error', reject)
    request.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8')
      try {
        resolve(text === '' ? undefined : JSON.parse(text))
      } catch (error) {
        reject(error)
      }
    })
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function frameOf(step: SseStep): string | undefined {
  if ('raw' in step) return step.raw
  if ('done' in step) return 'data: [DONE]\n\n'
  if ('data' in step) {
    const data = typeof step.data === 'string' ? step.data : JSON.stringify(step.data)
    return `${step.event === undefined ? '' : `event: ${step.event}\n`}data: ${data}\n\n`
  }
  return undefined
}

interface ReplyState {
  open: boolean
  cutByServer: boolean
}

async function play(reply: FakeReply, response: ServerResponse, state: ReplyState): Promise<void> {
  const isOpen = (): boolean => state.open && !response.destroyed
  if ('hang' in reply) return
  if ('status' in reply) {
    if (reply.delay !== undefined) await sleep(reply.delay)
    if (!isOpen()) return
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body))
    return
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers })
  response.flushHeaders()
  for (const step of reply.stream) {
    if (!isOpen()) return
    if ('delay' in step) await sleep(step.delay)
    else if ('stall' in step) return
    else if ('cut' in step) {
      state.cutByServer = true
      response.socket?.destroy()
      return
    } else {
      const frame = frameOf(step) as string
      await new Promise<void>((resolve) => response.write(frame, () => resolve()))
    }
  }
  if (isOpen()) response.end()
}

/** Starts a fake OpenAI server on 127.0.0.1 at a free port. */
export async function startFakeOpenAIServer(): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = []
  const closedByClient: RecordedRequest[] = []
  const queue: FakeReply[] = []
  const closeWaiters: ((request: RecordedRequest) => void)[] = []
  let fallback: (request: RecordedRequest) => FakeReply = () => notFound

  const server = createServer((request, response) => {
    void (async () => {
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: new URL(request.url ?? '/', 'http://127.0.0.1').pathname,
        headers: request.headers,
        body: await readBody(request).catch(() => undefined),
      }
      requests.push(recorded)
      const state: ReplyState = { open: true, cutByServer: false }
      response.on('close', () => {
        state.open = false
        if (!response.writableFinished && !state.cutByServer) {
          closedByClient.push(recorded)
          for (const waiter of closeWaiters.splice(0)) waiter(recorded)
        }
      })
      await play(queue.shift() ?? fallback(recorded), response, state)
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    closedByClient,
    enqueue: (...replies) => void queue.push(...replies),
    setDefault(handler) {
      fallback = handler
    },
    reset() {
      requests.length = 0
      closedByClient.length = 0
      queue.length = 0
      fallback = () => notFound
    },
    waitForClientClose(timeoutMs = 2000) {
      const already = closedByClient[0]
      if (already !== undefined) return Promise.resolve(already)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`No client closed a connection within ${timeoutMs} ms`)), timeoutMs)
        closeWaiters.push((request) => {
          clearTimeout(timer)
          resolve(request)
        })
      })
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
  }
}
