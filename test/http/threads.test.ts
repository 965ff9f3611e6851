import { describe, expect, it } from 'vitest'
import { useDemoServer } from './support.js'

const demo = useDemoServer()

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('threads', () => {
  it('creates a thread: 201 with the thread shape', async () => {
    const created = await demo.api('POST', '/v1/threads', { title: 'Hello', persona_id: 'assistant@1', user_id: 'u1', metadata: { tag: 'x' } })
    expect(created.status).toBe(201)
    expect(created.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
    expect(Object.keys(created.body).sort()).toEqual(
      ['created_at', 'id', 'metadata', 'org_id', 'persona_id', 'state', 'title', 'type', 'updated_at', 'user_id'].sort(),
    )
    expect(created.body).toMatchObject({ org_id: 'default', user_id: 'u1', type: 'agent', persona_id: 'assistant@1', title: 'Hello', metadata: { tag: 'x' }, state: {} })
    expect(created.body.id).toMatch(/^thr_/)
    expect(created.body.created_at).toMatch(isoTime)
  })

  it('creates a thread from an empty body, with the caller as user (null without auth)', async () => {
    const created = await demo.api('POST', '/v1/threads')
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ user_id: null, title: null, persona_id: null, metadata: {}, state: {} })
  })

  it('gets, patches and deletes a thread', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', { title: 'before' })
    expect((await demo.api('GET', `/v1/threads/${thread.id}`)).body).toEqual(thread)
    const patched = await demo.api('PATCH', `/v1/threads/${thread.id}`, { title: 'after', metadata: { a: 1 }, state: { count: 2 } })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ id: thread.id, title: 'after', metadata: { a: 1 }, state: { count: 2 } })
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(thread.updated_at))
    const cleared = await demo.api('PATCH', `/v1/threads/${thread.id}`, { title: null })
    expect(cleared.body.title).toBeNull()
    const deleted = await demo.api('DELETE', `/v1/threads/${thread.id}`)
    expect(deleted).toMatchObject({ status: 200, body: { ok: true } })
    const gone = await demo.api('GET', `/v1/threads/${thread.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body.code).toBe('not_found.thread')
  })

  it('deleting a thread cancels its active run first', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', {})
    const { body: run } = await demo.api('POST', `/v1/threads/${thread.id}/runs`, { input: '/slow 100 50' })
    expect((await demo.api('DELETE', `/v1/threads/${thread.id}`)).status).toBe(200)
    expect((await demo.api('GET', `/v1/runs/${run.run_id}`)).status).toBe(404)
  })

  it('lists threads newest first, with limit, the cursor before and user_id', async () => {
    const ids: string[] = []
    for (let index = 0; index < 5; index++) ids.push((await demo.api('POST', '/v1/threads', { user_id: 'lister', title: `t${index}` })).body.id)
    const first = await demo.api('GET', '/v1/threads?user_id=lister&limit=2')
    expect(first.status).toBe(200)
    expect(first.body.map((thread: any) => thread.id)).toEqual([ids[4], ids[3]])
    const second = await demo.api('GET', `/v1/threads?user_id=lister&limit=2&before=${first.body[1].id}`)
    expect(second.body.map((thread: any) => thread.id)).toEqual([ids[2], ids[1]])
    const rest = await demo.api('GET', `/v1/threads?user_id=lister&before=${ids[1]}`)
    expect(rest.body.map((thread: any) => thread.id)).toEqual([ids[0]])
    const all = await demo.api('GET', '/v1/threads?limit=100')
    expect(all.body.length).toBeGreaterThanOrEqual(5)
  })
})

describe('client mistakes on threads', () => {
  const cases: [string, string, string, unknown, number, string][] = [
    ['bad JSON', 'POST', '/v1/threads', '{"title": ', 400, 'validation.invalid'],
    ['a JSON array', 'POST', '/v1/threads', '[]', 400, 'validation.invalid'],
    ['an unknown field', 'POST', '/v1/threads', { title: 'x', color: 'red' }, 400, 'validation.invalid'],
    ['a wrongly typed field', 'POST', '/v1/threads', { title: 42 }, 400, 'validation.invalid'],
    ['metadata that is not an object', 'POST', '/v1/threads', { metadata: [1] }, 400, 'validation.invalid'],
    ['an unknown persona', 'POST', '/v1/threads', { persona_id: 'nobody' }, 404, 'not_found.agent'],
    ['an unknown field in a patch', 'PATCH', '/v1/threads/thr_missing', { color: 'red' }, 400, 'validation.invalid'],
    ['limit 0', 'GET', '/v1/threads?limit=0', undefined, 400, 'validation.invalid'],
    ['limit 101', 'GET', '/v1/threads?limit=101', undefined, 400, 'validation.invalid'],
    ['limit abc', 'GET', '/v1/threads?limit=abc', undefined, 400, 'validation.invalid'],
    ['an unknown cursor', 'GET', '/v1/threads?before=thr_nope', undefined, 400, 'validation.invalid'],
    ['an unknown thread', 'GET', '/v1/threads/thr_nope', undefined, 404, 'not_found.thread'],
    ['an unknown path', 'GET', '/v1/nothing', undefined, 404, 'not_found.path'],
    ['a trailing slash', 'GET', '/v1/threads/', undefined, 404, 'not_found.path'],
    ['a malformed escape', 'GET', '/v1/threads/%E0%A4%A', undefined, 404, 'not_found.path'],
    ['an unknown run action', 'POST', '/v1/runs/run_x:explode', undefined, 404, 'not_found.path'],
    ['a wrong method', 'PUT', '/v1/threads', {}, 405, 'validation.method'],
    ['a wrong method on a thread', 'POST', '/v1/threads/thr_x', {}, 405, 'validation.method'],
  ]
  it.each(cases)('%s is %i %s with the error shape', async (_name, method, path, body, status, code) => {
    const response = await demo.api(method, path, body)
    expect(response.status).toBe(status)
    expect(response.body).toMatchObject({ code, details: expect.any(Object) })
    expect(typeof response.body.message).toBe('string')
    expect(response.body.trace_id).toBe(response.headers.get('x-trace-id'))
  })

  it('405 names the allowed methods in Allow', async () => {
    const response = await demo.api('DELETE', '/v1/threads')
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST')
    expect(response.body.details.allow).toEqual(['GET', 'HEAD', 'POST'])
  })

  it('says which field is wrong', async () => {
    const response = await demo.api('POST', '/v1/threads', { title: 'x', colour: 'red' })
    expect(response.body.message).toContain('colour')
    expect(response.body.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining('colour') })]))
  })

  it('keeps a valid incoming X-Trace-Id, and makes one otherwise', async () => {
    const traceId = 'ab'.repeat(16)
    const response = await demo.api('GET', '/v1/threads/thr_nope', undefined, { 'X-Trace-Id': traceId })
    expect(response.headers.get('x-trace-id')).toBe(traceId)
    expect(response.body.trace_id).toBe(traceId)
    const other = await demo.api('GET', '/v1/threads', undefined, { 'X-Trace-Id': 'not a trace id' })
    expect(other.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
  })

  it('rejects an oversized body with 413 without creating anything', async () => {
    const before = (await demo.api('GET', '/v1/threads?limit=100')).body.length
    const response = await demo.api('POST', '/v1/threads', { title: 'x'.repeat(3 * 1024 * 1024) })
    expect(response.status).toBe(413)
    expect(response.body.code).toBe('validation.too_large')
    expect((await demo.api('GET', '/v1/threads?limit=100')).body.length).toBe(before)
  })

  it('a failed patch changes nothing', async () => {
    const { body: thread } = await demo.api('POST', '/v1/threads', { title: 'kept' })
    const response = await demo.api('PATCH', `/v1/threads/${thread.id}`, { title: 'changed', state: 'not an object' })
    expect(response.status).toBe(400)
    expect((await demo.api('GET', `/v1/threads/${thread.id}`)).body.title).toBe('kept')
  })
})
