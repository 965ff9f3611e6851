/**
 * User memories on a SQLite file: an extraction cut short by a close is made
 * again by the runtime that takes the run up, once, and its memory lands
 * once; memories outlive the process.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, type ModelRequest } from '../../src/index.js'
import { reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { collect } from '../helpers.js'

const directory = mkdtempSync(join(tmpdir(), 'hearth-memory-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const open = (path: string, extraction: () => ScriptedTurn) =>
  Runtime.open({
    store: sqliteStore({ path }),
    providers: { scripted: scriptedModel((request: ModelRequest) => (request.responseFormat?.name === 'memory_updates' ? extraction() : reply('Noted.')), { mode: 'sequential' }) },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [{ key: 'assistant', version: 1, memory: 'auto' }],
  })

describe('user memory on SQLite', () => {
  it('extracts again after a close cut the extraction short, and keeps its memory once', async () => {
    const path = join(directory, 'restart.db')
    const first = await open(path, () => [{ delay: 600_000 }, { text: '{}' }])
    const session = await first.createSession({ agent: 'assistant', userId: 'ann' })
    const handle = await first.createRun(session.id, { input: 'I live in Lisbon' })
    // The answer is in; the run waits for its extraction, which a close cuts short.
    for await (const event of handle.events()) if (event.type === 'message.completed') break
    await first.close()

    const answer = JSON.stringify({ add: [{ memory: 'Lives in Lisbon', topics: ['location'] }], update: [], delete: [] })
    const second = await open(path, () => reply(answer))
    const events = await collect(second.runEvents(handle.id))
    const kinds = events.map((event) => event.type)
    expect(kinds.filter((type) => type === 'memory.update_started')).toHaveLength(1)
    expect(kinds.filter((type) => type === 'memory.update_completed')).toHaveLength(1)
    expect(kinds.indexOf('memory.update_completed')).toBeLessThan(kinds.indexOf('run.completed'))
    expect((await second.getRun(handle.id)).status).toBe('completed')
    await second.close()

    const third = await open(path, () => reply('{}'))
    expect((await third.memories.list({ userId: 'ann' })).memories.map((memory) => memory.memory)).toEqual(['Lives in Lisbon'])
    await third.close()
  })
})
