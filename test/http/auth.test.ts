import { describe, expect, it, vi } from 'vitest'
import type { HttpCaller } from 'hearth-runtime/http'
import { apiClient, openEvents, startRun, useDemoServer, waitForRun } from './support.js'

const callers: Record<string, HttpCaller> = {
  'token-ann': { org_id: 'acme', user_id: 'ann', name: 'Ann', email: 'ann@acme.test' },
  'token-bob': { org_id: 'acme', user_id: 'bob' },
  'token-eve': { org_id: 'evil', user_id: 'eve', name: 'Eve' },
}

const demo = useDemoServer({
  http: {
    // Async on purpose: authenticate may look the token up somewhere.
    authenticate: async (token) => {
      if (token === 'token-broken') throw new Error('the token store is down')
      if (token === 'token-malformed') return { org: 'acme' } as unknown as HttpCaller
      return callers[token] ?? null
    },
  },
})

describe('bearer auth', () => {
  it('401 without a token, with a rejected one, or with another scheme', async () => {
    for (const headers of [{}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic dXNlcjpwYXNz' }, { Authorization: 'Bearer ' }] as Record<string, string>[]) {
      const response = await fetch(`${demo.url}/v1/threads`, { headers })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      const body = (await response.json()) as any
      expect(body).toMatchObject({ code: 'auth.unauthorized', details: {}, trace_id: response.headers.get('x-trace-id') })
    }
  })

  it('401 on every route, before anything is read or written', async () => {
    const api = apiClient(demo.url, 'nope')
    for (const [method, path] of [
      ['POST', '/v1/threads'],
      ['GET', '/v1/runs'],
      ['GET', '/v1/runs/run_x/events'],
      ['POST', '/v1/runs/run_x:cancel'],
      ['GET', '/sessions/thr_x/runs'],
    ] as const) {
      expect((await api(method, path, method === 'POST' ? {} : undefined)).status).toBe(401)
    }
  })

  it('a token that authenticate fails on is a 500 internal.error with a generic message', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      for (const token of ['token-broken', 'token-malformed']) {
        const response = await apiClient(demo.url, token)('GET', '/v1/threads')
        expect(response.status).toBe(500)
        expect(response.body).toMatchObject({ code: 'internal.error', message: 'Internal error', details: {} })
      }
      expect(log).toHaveBeenCalled()
    } finally {
      log.mockRestore()
    }
  })

  it('fills created_by_* and the thread user from the caller', async () => {
    const ann = apiClient(demo.url, 'token-ann')
    const { body: thread } = await ann('POST', '/v1/threads', {})
    expect(thread).toMatchObject({ org_id: 'acme', user_id: 'ann' })
    const { runId } = await startRun(ann, 'hi', thread.id)
    const run = await waitForRun(ann, runId, (details) => details.status === 'completed')
    expect(run).toMatchObject({ org_id: 'acme', created_by_user_id: 'ann', created_by_user_name: 'Ann', created_by_email: 'ann@acme.test' })
    const bob = apiClient(demo.url, 'token-bob')
    const { runId: bobRun } = await startRun(bob, 'hi', thread.id)
    const bobDetails = await waitForRun(bob, bobRun, (details) => details.status === 'completed')
    expect(bobDetails).toMatchObject({ created_by_user_id: 'bob', created_by_user_name: null, created_by_email: null })
  })
})

describe('org isolation', () => {
  it("another org's thread and run are 404 on every route, and never listed", async () => {
    const ann = apiClient(demo.url, 'token-ann')
    const eve = apiClient(demo.url, 'token-eve')
    const { threadId, runId } = await startRun(ann, '/tool send_email {"to":"x@y.z","subject":"s","body":"b"}')
    await waitForRun(ann, runId, (details) => details.status === 'waiting_for_input')

    const attempts: [string, string, unknown, string][] = [
      ['GET', `/v1/threads/${threadId}`, undefined, 'not_found.thread'],
      ['PATCH', `/v1/threads/${threadId}`, { title: 'mine now' }, 'not_found.thread'],
      ['DELETE', `/v1/threads/${threadId}`, undefined, 'not_found.thread'],
      ['GET', `/v1/threads/${threadId}/runs`, undefined, 'not_found.thread'],
      ['POST', `/v1/threads/${threadId}/runs`, { input: 'hi' }, 'not_found.thread'],
      ['GET', `/v1/runs/${runId}`, undefined, 'not_found.run'],
      ['POST', `/v1/runs/${runId}:cancel`, undefined, 'not_found.run'],
      ['POST', `/v1/runs/${runId}/input`, { content: 'yes' }, 'not_found.run'],
      ['GET', `/v1/runs/${runId}/events`, undefined, 'not_found.run'],
      ['GET', `/sessions/${threadId}/runs`, undefined, 'not_found.thread'],
    ]
    for (const [method, path, body, code] of attempts) {
      const response = await eve(method, path, body)
      expect({ method, path, status: response.status, code: response.body?.code }).toEqual({ method, path, status: 404, code })
    }
    expect((await eve('GET', `/v1/runs?before=${runId}`)).status).toBe(400)
    expect((await eve('GET', `/v1/threads?before=${threadId}`)).status).toBe(400)
    expect((await eve('GET', '/v1/threads?limit=100')).body.some((thread: any) => thread.id === threadId)).toBe(false)
    expect((await eve('GET', '/v1/runs?limit=100')).body.some((run: any) => run.run_id === runId)).toBe(false)
    expect((await openEvents(demo.url, runId, { token: 'token-eve' })).status).toBe(404)

    // Nothing of Eve's attempts landed: the run still waits, the thread is unchanged.
    const run = (await ann('GET', `/v1/runs/${runId}`)).body
    expect(run.status).toBe('waiting_for_input')
    expect((await ann('GET', `/v1/threads/${threadId}`)).body.title).toBeNull()
    expect((await ann('GET', '/v1/runs?limit=100')).body.some((item: any) => item.run_id === runId)).toBe(true)
    // Same org, other user: allowed.
    const bob = apiClient(demo.url, 'token-bob')
    expect((await bob('POST', `/v1/runs/${runId}/input`, { content: 'yes' })).status).toBe(200)
    await waitForRun(ann, runId, (details) => details.status === 'completed')
  })
})
