/**
 * The memory routes over real HTTP: Agno's shapes, every route's bad input,
 * and probes across users and orgs that must find nothing.
 */
import { describe, expect, it } from 'vitest'
import type { HttpCaller } from 'hearth-runtime/http'
import { apiClient, useDemoServer } from './support.js'

const callers: Record<string, HttpCaller> = {
  'token-operator': { org_id: 'acme', user_id: null },
  'token-ann': { org_id: 'acme', user_id: 'ann' },
  'token-bob': { org_id: 'acme', user_id: 'bob' },
  'token-eve': { org_id: 'evil', user_id: 'ann' },
}

const demo = useDemoServer({ http: { authenticate: (token) => callers[token] ?? null } })

describe('memory routes', () => {
  it('adds, reads, lists, changes and deletes the caller’s memories, in Agno’s shapes', async () => {
    const ann = apiClient(demo.url, 'token-ann')
    const created = await ann('POST', '/memories', { memory: 'Lives in Lisbon', topics: ['location'] })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ memory: 'Lives in Lisbon', topics: ['location'], user_id: 'ann', agent_id: null, agent_key: null, team_id: null })
    expect(created.body.memory_id).toMatch(/^mem_/)
    expect(created.body.updated_at).toBe(created.body.created_at)
    const id = created.body.memory_id as string
    await ann('POST', '/memories', { memory: 'Likes green tea', topics: ['drinks', 'preferences'], agent_id: 'assistant' })
    await ann('POST', '/memories', { memory: 'Allergic to nuts', topics: ['health', 'preferences'] })

    expect((await ann('GET', `/memories/${id}`)).body).toEqual(created.body)
    const page = await ann('GET', '/memories?limit=2&page=1')
    expect(page.status).toBe(200)
    expect(page.body.meta).toEqual({ page: 1, limit: 2, total_pages: 2, total_count: 3 })
    expect(page.body.data.map((memory: { memory: string }) => memory.memory)).toEqual(['Allergic to nuts', 'Likes green tea'])
    expect((await ann('GET', '/memories?limit=2&page=2')).body.data.map((memory: { memory: string }) => memory.memory)).toEqual(['Lives in Lisbon'])
    expect((await ann('GET', '/memories?sort_by=created_at&sort_order=asc')).body.data[0].memory).toBe('Lives in Lisbon')
    expect((await ann('GET', '/memories?topics=preferences,health')).body.data.map((memory: { memory: string }) => memory.memory)).toEqual(['Allergic to nuts'])
    expect((await ann('GET', '/memories?topics=preferences&topics=drinks')).body.meta.total_count).toBe(1)
    expect((await ann('GET', '/memories?search_content=TEA')).body.data.map((memory: { memory: string }) => memory.memory)).toEqual(['Likes green tea'])
    expect((await ann('GET', '/memories?agent_id=assistant')).body.meta.total_count).toBe(1)
    expect((await ann('GET', '/memory_topics')).body).toEqual(['drinks', 'health', 'location', 'preferences'])
    expect((await ann('GET', '/memories/topics')).body).toEqual(['drinks', 'health', 'location', 'preferences'])

    const patched = await ann('PATCH', `/memories/${id}`, { memory: 'Lives in Porto' })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ memory_id: id, memory: 'Lives in Porto', topics: ['location'] })
    expect((await ann('PATCH', `/memories/${id}`, { topics: ['home'] })).body).toMatchObject({ memory: 'Lives in Porto', topics: ['home'] })

    const deleted = await ann('DELETE', `/memories/${id}`)
    expect(deleted.status).toBe(204)
    expect((await ann('GET', `/memories/${id}`)).body).toMatchObject({ code: 'not_found.memory' })
    expect((await ann('DELETE', `/memories/${id}`)).status).toBe(404)
    const rest = (await ann('GET', '/memories')).body.data.map((memory: { memory_id: string }) => memory.memory_id) as string[]
    expect((await ann('DELETE', '/memories', { memory_ids: rest })).status).toBe(204)
    expect((await ann('GET', '/memories')).body.meta).toEqual({ page: 1, limit: 20, total_pages: 0, total_count: 0 })
  })

  it('finds nothing of another user or another org, and lets an operator act only for the user it names', async () => {
    const ann = apiClient(demo.url, 'token-ann')
    const bob = apiClient(demo.url, 'token-bob')
    const eve = apiClient(demo.url, 'token-eve')
    const operator = apiClient(demo.url, 'token-operator')
    const mine = (await ann('POST', '/memories', { memory: 'Ann’s secret' })).body.memory_id as string
    const his = (await bob('POST', '/memories', { memory: 'Bob’s secret' })).body.memory_id as string

    // Bob, by id: 404 for every route; lists and topics show only his.
    expect((await bob('GET', `/memories/${mine}`)).status).toBe(404)
    expect((await bob('PATCH', `/memories/${mine}`, { memory: 'stolen' })).status).toBe(404)
    expect((await bob('DELETE', `/memories/${mine}`)).status).toBe(404)
    expect((await bob('DELETE', '/memories', { memory_ids: [mine] })).status).toBe(204)
    expect((await bob('GET', '/memories')).body.data.map((memory: { memory_id: string }) => memory.memory_id)).toEqual([his])
    // Naming another user is forbidden to a caller bound to one.
    for (const [method, path, body] of [
      ['GET', '/memories?user_id=ann', undefined],
      ['GET', `/memories/${mine}?user_id=ann`, undefined],
      ['POST', '/memories', { memory: 'planted', user_id: 'ann' }],
      ['PATCH', `/memories/${mine}`, { memory: 'stolen', user_id: 'ann' }],
      ['DELETE', '/memories', { memory_ids: [mine], user_id: 'ann' }],
      ['GET', '/memory_topics?user_id=ann', undefined],
    ] as const) {
      const response = await bob(method, path, body)
      expect(response.status, `${method} ${path}`).toBe(403)
      expect(response.body.code).toBe('auth.forbidden')
    }
    // Nor can Bob make a thread for Ann, whose runs would carry her memories.
    const thread = await bob('POST', '/v1/threads', { user_id: 'ann' })
    expect(thread.status).toBe(403)
    expect(thread.body.code).toBe('auth.forbidden')
    expect((await bob('POST', '/v1/threads', { user_id: 'bob' })).status).toBe(201)
    // Eve is user "ann" of another org: Ann's memories are not hers.
    expect((await eve('GET', `/memories/${mine}`)).status).toBe(404)
    expect((await eve('GET', '/memories')).body.meta.total_count).toBe(0)
    expect((await eve('DELETE', '/memories', { memory_ids: [mine, his] })).status).toBe(204)
    // The operator (no user of its own) must name one, and then reaches only that user's.
    const missing = await operator('GET', '/memories')
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ code: 'validation.invalid', details: { path: ['user_id'] } })
    expect((await operator('DELETE', '/memories', { memory_ids: [mine, his] })).status).toBe(400)
    expect((await operator('GET', '/memories?user_id=ann')).body.data.map((memory: { memory_id: string }) => memory.memory_id)).toEqual([mine])
    expect((await operator('GET', `/memories/${mine}?user_id=bob`)).status).toBe(404)
    expect((await operator('DELETE', '/memories', { memory_ids: [mine, his], user_id: 'bob' })).status).toBe(204)
    expect((await ann('GET', `/memories/${mine}`)).status).toBe(200)
    expect((await bob('GET', `/memories/${his}`)).status).toBe(404)
  })

  it('answers bad input with the usual error model, writing nothing', async () => {
    const ann = apiClient(demo.url, 'token-ann')
    const before = (await ann('GET', '/memories')).body.meta.total_count as number
    const bad: [string, string, unknown, number, string][] = [
      ['POST', '/memories', {}, 400, 'validation.invalid'],
      ['POST', '/memories', { memory: '' }, 400, 'validation.invalid'],
      ['POST', '/memories', { memory: 'x'.repeat(5001) }, 400, 'validation.invalid'],
      ['POST', '/memories', { memory: 'ok', topics: 'location' }, 400, 'validation.invalid'],
      ['POST', '/memories', { memory: 'ok', topics: [''] }, 400, 'validation.invalid'],
      ['POST', '/memories', { memory: 'ok', extra: 1 }, 400, 'validation.invalid'],
      ['POST', '/memories', 'not json', 400, 'validation.invalid'],
      ['PATCH', '/memories/mem_x', {}, 400, 'validation.invalid'],
      ['DELETE', '/memories', { memory_ids: [] }, 400, 'validation.invalid'],
      ['DELETE', '/memories', {}, 400, 'validation.invalid'],
      ['GET', '/memories?limit=0', undefined, 400, 'validation.invalid'],
      ['GET', '/memories?limit=101', undefined, 400, 'validation.invalid'],
      ['GET', '/memories?page=0', undefined, 400, 'validation.invalid'],
      ['GET', '/memories?sort_by=memory', undefined, 400, 'validation.invalid'],
      ['GET', '/memories?sort_order=up', undefined, 400, 'validation.invalid'],
      ['GET', '/memories?db_id=other', undefined, 404, 'not_found.db'],
      ['GET', '/memories/mem_missing', undefined, 404, 'not_found.memory'],
      ['PUT', '/memories', { memory: 'x' }, 405, 'validation.method'],
      ['POST', '/memory_topics', {}, 405, 'validation.method'],
      ['GET', '/memories/a/b', undefined, 404, 'not_found.path'],
    ]
    for (const [method, path, body, status, code] of bad) {
      const response = await ann(method, path, body)
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status)
      expect(response.body).toMatchObject({ code, trace_id: expect.any(String) })
    }
    const form = await fetch(`${demo.url}/memories`, { method: 'POST', headers: { Authorization: 'Bearer token-ann', 'Content-Type': 'text/plain' }, body: 'memory=x' })
    expect(form.status).toBe(415)
    expect((await ann('GET', '/memories')).body.meta.total_count).toBe(before)
    expect((await fetch(`${demo.url}/memories`)).status).toBe(401)
  })
})
