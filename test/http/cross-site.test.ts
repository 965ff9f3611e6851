/**
 * Writes a page of another site could send blind: a body that is not
 * `application/json` is 415 `validation.content_type`, and a write whose
 * `Origin` is neither the server's own nor allowed is 403
 * `auth.forbidden_origin`; neither writes anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'hearth-runtime'
import { createHttpHandler } from 'hearth-runtime/http'
import { apiClient, openDemoRuntime, serveRuntime, startRun, waitForRun, type TestServer } from './support.js'

const email = '/tool send_email {"to": "a@example.com", "subject": "s", "body": "b"}'

let runtime: Runtime
let server: TestServer
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  runtime = await openDemoRuntime()
  server = await serveRuntime(runtime)
  api = apiClient(server.url)
})

afterAll(async () => {
  await server.close()
  await runtime.close()
})

/** A request with exactly these headers and body (the JSON client would add `application/json`). */
async function send(method: string, path: string, init: { body?: RequestInit["body"]; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${server.url}${path}`, { method, ...init })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) }
}

const threadCount = async (): Promise<number> => (await runtime.listSessions({ limit: 100 })).length

/** A thread with a run waiting for a tool confirmation. */
async function waitingRun(): Promise<{ threadId: string; runId: string }> {
  const started = await startRun(api, email)
  await waitForRun(api, started.runId, (run) => run.status === 'waiting_for_input')
  return started
}

describe('bodies must be application/json', () => {
  it('415 validation.content_type for any other body, and nothing is written', async () => {
    const { threadId, runId } = await waitingRun()
    const threads = await threadCount()
    const types: [string | undefined, RequestInit["body"]][] = [
      ['text/plain', '{"title":"t"}'],
      ['text/plain;charset=UTF-8', '{"title":"t"}'],
      ['application/x-www-form-urlencoded', 'title=t'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--x--'],
      ['application/jsonx', '{"title":"t"}'],
      // A byte body: fetch sends no Content-Type at all.
      [undefined, new TextEncoder().encode('{"title":"t"}')],
    ]
    for (const [type, body] of types) {
      const response = await send('POST', '/v1/threads', { body, headers: type === undefined ? {} : { 'Content-Type': type } })
      expect(response.status).toBe(415)
      expect(response.body).toMatchObject({ code: 'validation.content_type', details: { content_type: type ?? null }, trace_id: response.headers.get('x-trace-id') })
    }
    const plain = { 'Content-Type': 'text/plain' }
    expect((await send('POST', `/v1/threads/${threadId}/runs`, { body: '{"input":"hi"}', headers: plain })).status).toBe(415)
    expect((await send('PATCH', `/v1/threads/${threadId}`, { body: '{"title":"changed"}', headers: plain })).status).toBe(415)
    expect((await send('DELETE', `/v1/threads/${threadId}`, { body: '{}', headers: plain })).status).toBe(415)
    expect((await send('POST', `/v1/runs/${runId}:cancel`, { body: '{"reason":"x"}', headers: plain })).status).toBe(415)
    // Approving a tool call blind, as a form on another site could.
    expect((await send('POST', `/v1/runs/${runId}/input`, { body: '{"content":"yes"}', headers: plain })).status).toBe(415)
    expect(await threadCount()).toBe(threads)
    const thread = await runtime.getSession(threadId)
    expect(thread.title).toBeNull()
    expect((await runtime.listRuns({ sessionId: threadId })).map((run) => run.id)).toEqual([runId])
    expect((await runtime.getRun(runId)).status).toBe('waiting_for_input')
    await runtime.cancelRun(runId)
  })

  it('takes application/json with parameters, in any case', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;Charset=UTF-8', 'application/json ; x=y']) {
      const response = await send('POST', '/v1/threads', { body: '{"title":"typed"}', headers: { 'Content-Type': type } })
      expect(response.status).toBe(201)
    }
  })

  it('needs no Content-Type on a request without a body', async () => {
    const { runId } = await waitingRun()
    expect((await send('POST', '/v1/threads')).status).toBe(201)
    expect((await send('POST', `/v1/runs/${runId}:cancel`)).status).toBe(200)
    expect((await runtime.getRun(runId)).status).toBe('cancelled')
  })

  it('415 for an in-process Request whose body its headers do not announce', async () => {
    const handler = createHttpHandler(runtime)
    const threads = await threadCount()
    // A string body makes the Request text/plain, with no Content-Length header.
    const response = await handler(new Request('http://local/v1/threads', { method: 'POST', body: '{"title":"t"}' }))
    expect(response.status).toBe(415)
    expect(await response.json()).toMatchObject({ code: 'validation.content_type', details: { content_type: 'text/plain;charset=UTF-8' } })
    expect(await threadCount()).toBe(threads)
  })
})

describe('writes from pages of other sites', () => {
  it('403 auth.forbidden_origin for a write from another origin, bodiless ones and Origin: null included; nothing is written', async () => {
    const { threadId, runId } = await waitingRun()
    const threads = await threadCount()
    const { port } = new URL(server.url)
    const others = ['https://evil.example', 'null', `http://127.0.0.1:${Number(port) + 1}`, `https://127.0.0.1:${port}`, `http://localhost:${port}`]
    for (const origin of others) {
      const response = await api('POST', '/v1/threads', {}, { Origin: origin })
      expect(response.status).toBe(403)
      expect(response.body).toMatchObject({ code: 'auth.forbidden_origin', details: { origin }, trace_id: response.headers.get('x-trace-id') })
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    }
    const evil = { Origin: 'https://evil.example' }
    expect((await send('POST', `/v1/runs/${runId}:cancel`, { headers: evil })).status).toBe(403)
    expect((await api('POST', `/v1/runs/${runId}/input`, { content: 'yes' }, evil)).status).toBe(403)
    expect((await api('POST', `/v1/threads/${threadId}/runs`, { input: 'hi' }, evil)).status).toBe(403)
    expect((await api('PATCH', `/v1/threads/${threadId}`, { title: 'x' }, evil)).status).toBe(403)
    expect((await api('DELETE', `/v1/threads/${threadId}`, undefined, evil)).status).toBe(403)
    expect(await threadCount()).toBe(threads)
    expect((await runtime.getSession(threadId)).title).toBeNull()
    expect((await runtime.getRun(runId)).status).toBe('waiting_for_input')
    await runtime.cancelRun(runId)
  })

  it('allows the server\'s own origin and requests without Origin; reads from anywhere get no CORS headers', async () => {
    expect((await api('POST', '/v1/threads', {}, { Origin: server.url })).status).toBe(201)
    expect((await api('POST', '/v1/threads', {})).status).toBe(201)
    const read = await api('GET', '/v1/threads', undefined, { Origin: 'https://evil.example' })
    expect(read.status).toBe(200)
    expect(read.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('compares the own origin with its scheme, also for an app scheme the URL standard gives an opaque origin', async () => {
    const handler = createHttpHandler(runtime)
    const post = (url: string, origin: string) =>
      handler(new Request(url, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json' }, body: '{}' }))
    expect((await post('hearth://app/v1/threads', 'hearth://app')).status).toBe(201)
    expect((await post('hearth://app/v1/threads', 'null')).status).toBe(403)
    expect((await post('hearth://app/v1/threads', 'other://app')).status).toBe(403)
    expect((await post('https://api.example/v1/threads', 'https://api.example')).status).toBe(201)
    expect((await post('https://api.example/v1/threads', 'http://api.example')).status).toBe(403)
  })

  it('OPTIONS stays 405 without the cors option', async () => {
    const response = await send('OPTIONS', '/v1/threads', { headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' } })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST')
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('with auth on', () => {
  let authServer: TestServer
  const tokens: string[] = []
  beforeAll(async () => {
    authServer = await serveRuntime(runtime, {
      authenticate: (token) => {
        tokens.push(token)
        return token === 'right' ? { org_id: 'default', user_id: 'u' } : null
      },
    })
  })
  afterAll(() => authServer.close())

  it('checks the origin before authenticate, and the body type after it', async () => {
    const withToken = apiClient(authServer.url, 'right')
    expect((await withToken('POST', '/v1/threads', {}, { Origin: 'https://evil.example' })).status).toBe(403)
    expect(tokens).toEqual([])
    const plain = await withToken('POST', '/v1/threads', '{}', { 'Content-Type': 'text/plain' })
    expect(plain.status).toBe(415)
    expect(plain.body.code).toBe('validation.content_type')
    expect((await apiClient(authServer.url)('POST', '/v1/threads', '{}', { 'Content-Type': 'text/plain' })).status).toBe(401)
    expect((await withToken('POST', '/v1/threads', {}, { Origin: authServer.url })).status).toBe(201)
  })
})
