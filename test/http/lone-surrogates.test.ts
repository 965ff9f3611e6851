/**
 * A lone surrogate (an unpaired `\uD800`-`\uDFFF` escape) anywhere in a JSON
 * body, keys and nested values included, is 400 `validation.invalid` with
 * its path in `details`, and nothing is written; whole pairs pass unchanged.
 */
import { describe, expect, it } from 'vitest'
import { startRun, useDemoServer, waitForRun } from './support.js'

const demo = useDemoServer()

/** Sends the JSON text as it is: the escapes stay escapes on the wire. */
const send = (method: string, path: string, text: string) => demo.api(method, path, text)

function expectRefused(response: { status: number; body: any }, path: (string | number)[]): void {
  expect(response.status).toBe(400)
  expect(response.body).toMatchObject({ code: 'validation.invalid', details: { path } })
  expect(response.body.message).toContain('unpaired UTF-16 surrogate')
}

describe('lone surrogates in JSON bodies', () => {
  it('refuses them in any string of a thread body, keys and nested metadata and state included', async () => {
    const before = (await demo.runtime.listSessions({ limit: 100 })).length
    const cases: [string, (string | number)[]][] = [
      [String.raw`{"title":"a\ud800b"}`, ['title']],
      [String.raw`{"title":"\udc00"}`, ['title']],
      [String.raw`{"title":"\udc00\ud800"}`, ['title']],
      [String.raw`{"title":"\ud83d"}`, ['title']],
      [String.raw`{"metadata":{"note":"\uDBFF!"}}`, ['metadata', 'note']],
      [String.raw`{"metadata":{"fine":"\ud83d\ude00","list":["x",{"deep":"\ud800"}]}}`, ['metadata', 'list', 1, 'deep']],
      [String.raw`{"metadata":{"k\ud800":1}}`, ['metadata', 'k\ud800']],
      [String.raw`{"metadata":{"a.b":"\ud800"}}`, ['metadata', 'a.b']],
      [String.raw`{"t\udfff":1}`, ['t\udfff']],
    ]
    for (const [text, path] of cases) expectRefused(await send('POST', '/v1/threads', text), path)
    expect((await demo.runtime.listSessions({ limit: 100 })).length).toBe(before)
    const { body: thread } = await demo.api('POST', '/v1/threads', { title: 'kept' })
    expectRefused(await send('PATCH', `/v1/threads/${thread.id}`, String.raw`{"state":{"a":[1,[2,["\ud800"]]]}}`), ['state', 'a', 1, 1, 0])
    expect((await demo.runtime.getSession(thread.id)).state).toEqual({})
  })

  it('refuses them in run input, input content and a cancel reason, leaving the runs as they were', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    expectRefused(await send('POST', `/v1/threads/${thread.id}/runs`, String.raw`{"input":"hi \ud800"}`), ['input'])
    expect(await demo.runtime.listRuns({ sessionId: thread.id })).toEqual([])
    const { runId } = await startRun(demo.api, '/tool send_email {"to": "a@example.com", "subject": "s", "body": "b"}', thread.id)
    await waitForRun(demo.api, runId, (run) => run.status === 'waiting_for_input')
    expectRefused(await send('POST', `/v1/runs/${runId}/input`, String.raw`{"content":"no \udead"}`), ['content'])
    expectRefused(await send('POST', `/v1/runs/${runId}:cancel`, String.raw`{"reason":"\ud800"}`), ['reason'])
    expect((await demo.runtime.getRun(runId)).status).toBe('waiting_for_input')
    await demo.runtime.cancelRun(runId)
  })

  it('finds one at the bottom of a deeply nested body without overflowing the stack', async () => {
    const depth = 100_000
    const text = `{"metadata":{"a":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}}`
    const response = await send('POST', '/v1/threads', text)
    expect(response.status).toBe(400)
    expect(response.body.details.path).toHaveLength(depth + 2)
  })

  it('keeps whole pairs, escaped or not, exactly', async () => {
    const created = await send('POST', '/v1/threads', String.raw`{"title":"\ud83d\ude00 ok","metadata":{"\ud83d\ude00":"😀","lone-looking":"\\ud800"}}`)
    expect(created.status).toBe(201)
    expect(created.body.title).toBe('😀 ok')
    expect(created.body.metadata).toEqual({ '😀': '😀', 'lone-looking': '\\ud800' })
    const { runId } = await startRun(demo.api, 'smile 😀')
    const run = await waitForRun(demo.api, runId, (details) => details.status === 'completed')
    expect(run.input).toBe('smile 😀')
  })
})
