import { describe, expect, it } from 'vitest'
import type { HttpCaller } from 'hearth-runtime/http'
import { apiClient, useDemoServer, waitForRun } from './support.js'

const callers: Record<string, HttpCaller> = {
  'token-ann': { org_id: 'acme', user_id: 'ann' },
  'token-eve': { org_id: 'evil', user_id: 'eve' },
}
const demo = useDemoServer({ http: { authenticate: (token) => callers[token] ?? null }, token: 'token-ann' })

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('thread messages over HTTP', () => {
  it('POST adds an unanswered message (201), GET lists them newest first with limit and before', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const created = await demo.api('POST', `/v1/threads/${thread.id}/messages`, { content: 'Hello there' })
    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(['content', 'created_at', 'id', 'role', 'run_id', 'thread_id'])
    expect(created.body).toEqual({ id: expect.stringMatching(/^msg_/), thread_id: thread.id, role: 'user', content: 'Hello there', run_id: null, created_at: expect.stringMatching(isoTime) })
    const second = await demo.api('POST', `/v1/threads/${thread.id}/messages`, { content: 'second' })
    const third = await demo.api('POST', `/v1/threads/${thread.id}/messages`, { content: 'third' })
    const all = await demo.api('GET', `/v1/threads/${thread.id}/messages`)
    expect(all).toMatchObject({ status: 200, body: [third.body, second.body, created.body] })
    const page = await demo.api('GET', `/v1/threads/${thread.id}/messages?limit=2`)
    expect(page.body).toEqual([third.body, second.body])
    expect((await demo.api('GET', `/v1/threads/${thread.id}/messages?limit=2&before=${second.body.id}`)).body).toEqual([created.body])
  })

  it('a run created without input answers them: its input is their contents joined, the messages name it', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const one = (await demo.api('POST', `/v1/threads/${thread.id}/messages`, { content: 'one' })).body
    const two = (await demo.api('POST', `/v1/threads/${thread.id}/messages`, { content: 'two' })).body
    const created = await demo.api('POST', `/v1/threads/${thread.id}/runs`, {})
    expect(created.status).toBe(201)
    const done = await waitForRun(demo.api, created.body.run_id, (run) => run.status === 'completed')
    expect(done).toMatchObject({ input: 'one\n\ntwo', message_ids: [one.id, two.id], content: 'You said: one\n\ntwo' })
    expect((await demo.api('GET', `/v1/threads/${thread.id}/messages`)).body.map((message: any) => message.run_id)).toEqual([created.body.run_id, created.body.run_id])
    // A run given input still answers its input, and says it answers no message.
    const direct = await demo.api('POST', `/v1/threads/${thread.id}/runs`, { input: 'direct' })
    expect(await waitForRun(demo.api, direct.body.run_id, (run) => run.status === 'completed')).toMatchObject({ input: 'direct', message_ids: null })
  })

  it('client mistakes are 4xx with their codes, and change nothing', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const eve = apiClient(demo.url, 'token-eve')
    const messages = `/v1/threads/${thread.id}/messages`
    const cases: [Promise<{ status: number; headers: Headers; body: any }>, number, string][] = [
      [demo.api('POST', messages, { content: 42 }), 400, 'validation.invalid'],
      [demo.api('POST', messages, {}), 400, 'validation.invalid'],
      [demo.api('POST', messages, { content: 'x', role: 'user' }), 400, 'validation.invalid'],
      [demo.api('POST', messages, '{"content": '), 400, 'validation.invalid'],
      [demo.api('POST', messages, { content: 'x'.repeat(1024 * 1024 + 1) }), 413, 'validation.too_large'],
      [demo.api('POST', '/v1/threads/thr_nope/messages', { content: 'x' }), 404, 'not_found.thread'],
      [eve('POST', messages, { content: 'x' }), 404, 'not_found.thread'],
      [eve('GET', messages), 404, 'not_found.thread'],
      [demo.api('GET', '/v1/threads/thr_nope/messages'), 404, 'not_found.thread'],
      [demo.api('GET', `${messages}?limit=0`), 400, 'validation.invalid'],
      [demo.api('GET', `${messages}?limit=101`), 400, 'validation.invalid'],
      [demo.api('GET', `${messages}?before=msg_nope`), 400, 'validation.invalid'],
      [demo.api('DELETE', messages), 405, 'validation.method'],
      // Nothing to answer: no run is made.
      [demo.api('POST', `/v1/threads/${thread.id}/runs`, {}), 409, 'state.invalid'],
      [eve('POST', `/v1/threads/${thread.id}/runs`, {}), 404, 'not_found.thread'],
    ]
    for (const [call, status, code] of cases) {
      const response = await call
      expect({ status: response.status, code: response.body.code }).toEqual({ status, code })
      expect(response.body.trace_id).toBe(response.headers.get('x-trace-id'))
    }
    expect((await demo.api('DELETE', messages)).headers.get('allow')).toBe('GET, HEAD, POST')
    // 1 MiB is the limit of a run's input, and of a message: not over it.
    expect((await demo.api('POST', messages, { content: 'x'.repeat(1024 * 1024) })).status).toBe(201)
    const listed = (await demo.api('GET', messages)).body
    expect(listed).toHaveLength(1)
    expect((await demo.api('GET', `/v1/threads/${thread.id}/runs`)).body).toEqual([])
  })
})
