/**
 * Route fallbacks through the real `openai` client: a route whose attempts
 * are spent hands the turn to the next of its fallbacks, on a second server;
 * each turn is priced by the route that served it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { openaiProvider } from '../../adapters/openai/index.js'
import { Runtime, silentLogger, tool, type RunEvent } from '../../src/index.js'
import { callTools, reply } from '../../src/testing/index.js'
import { collect } from '../helpers.js'
import { startFakeOpenAIServer, type FakeOpenAIServer } from './fake-openai-server.js'
import { httpErrorReplies, toChatReply } from './wire-script.js'

let main: FakeOpenAIServer
let backup: FakeOpenAIServer
beforeAll(async () => {
  process.env.OPENAI_LOG = 'off'
  ;[main, backup] = await Promise.all([startFakeOpenAIServer(), startFakeOpenAIServer()])
})
afterAll(() => Promise.all([main.close(), backup.close()]))
beforeEach(() => {
  main.reset()
  backup.reset()
})

const look = tool({ name: 'look', input: z.object({}), execute: () => 'seen' })

function open(): Promise<Runtime> {
  return Runtime.open({
    logger: silentLogger,
    providers: {
      main: openaiProvider({ apiKey: 'sk-main', baseURL: main.baseURL }),
      backup: openaiProvider({ apiKey: 'sk-backup', baseURL: backup.baseURL }),
    },
    routes: {
      default: { provider: 'main', model: 'gpt-main', retry: { maxAttempts: 2, baseDelayMs: 1 }, fallbacks: ['spare'], pricing: { inputPerMillion: 1, outputPerMillion: 1 } },
      spare: { provider: 'backup', model: 'gpt-backup', pricing: { inputPerMillion: 10, outputPerMillion: 10 } },
    },
    agents: [{ key: 'worker', version: 1, tools: [look] }],
  })
}

const usage = (inputTokens: number, outputTokens: number) => ({ usage: { inputTokens, outputTokens } })

describe('route fallbacks', () => {
  it('hands a turn whose attempts are spent to the fallback route on another server, and prices it there', async () => {
    main.setDefault(() => httpErrorReplies['provider.unavailable'])
    backup.enqueue(toChatReply([...reply('Hello from backup'), usage(1000, 100)], 'gpt-backup'))
    const runtime = await open()
    const run = await runtime.createRun({ input: 'hi' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Hello from backup', routeId: 'default', totalCostUsd: 0.011 })
    const events = await collect(runtime.runEvents(run.id))
    expect(events.filter((event) => event.type === 'model.retry' || event.type === 'model.fallback').map((event) => [event.type, (event.data as { error: { code: string } }).error.code])).toEqual([
      ['model.retry', 'provider.unavailable'],
      ['model.fallback', 'provider.unavailable'],
    ])
    expect(events.find((event) => event.type === 'model.fallback')?.data).toMatchObject({ from_route_id: 'default', to_route_id: 'spare' })
    expect(events.find((event) => event.type === 'message.completed')?.data).toMatchObject({ route_id: 'spare', model: 'gpt-backup' })
    expect([main.requests.length, backup.requests.length]).toEqual([2, 1])
    expect(backup.requests[0]?.body.model).toBe('gpt-backup')
    await runtime.close()
  })

  it('starts each turn on the run’s own route again, and sums the turns’ costs by route', async () => {
    main.enqueue(httpErrorReplies['provider.unavailable'], httpErrorReplies['provider.unavailable'], toChatReply([...reply('done'), usage(500, 50)], 'gpt-main'))
    backup.enqueue(toChatReply([...callTools({ name: 'look', arguments: {} }), usage(1000, 100)], 'gpt-backup'))
    const runtime = await open()
    const done = await (await runtime.createRun({ input: 'look around' })).result()
    // 1,100 tokens at 10 USD per million, then 550 at 1.
    expect(done).toMatchObject({ status: 'completed', content: 'done', totalCostUsd: 0.01155 })
    const turns = done.messages.filter((message) => message.role === 'assistant')
    expect(turns).toHaveLength(2)
    expect(main.requests.at(-1)?.body.model).toBe('gpt-main')
    await runtime.close()
  })

  it('fails with the last route’s error when every fallback failed too, and keeps no partial text of theirs', async () => {
    main.setDefault(() => httpErrorReplies['provider.unavailable'])
    backup.setDefault(() => httpErrorReplies['provider.auth'])
    const runtime = await open()
    const run = await runtime.createRun({ input: 'hi' })
    expect(await run.result()).toMatchObject({ status: 'failed', error: { code: 'provider.auth' }, content: '' })
    const types = (await collect(runtime.runEvents(run.id))).map((event: RunEvent) => event.type)
    expect(types.filter((type) => type === 'model.fallback')).toHaveLength(1)
    expect(backup.requests).toHaveLength(1)
    await runtime.close()
  })

  it('checks fallbacks as options', async () => {
    const routes = (fallbacks: unknown) => Runtime.open({ providers: { main: openaiProvider({ apiKey: 'k' }) }, routes: { default: { provider: 'main', model: 'm', fallbacks: fallbacks as string[] }, spare: { provider: 'main', model: 'n' } } })
    await expect(routes(['nowhere'])).rejects.toMatchObject({ code: 'validation.invalid', message: expect.stringContaining('`nowhere` is not one') })
    await expect(routes(['default'])).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(routes(['spare', 'spare'])).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(routes('spare')).rejects.toMatchObject({ message: 'Expected `routes.default.fallbacks` to be an array of route ids' })
    await (await routes(['spare'])).close()
  })
})
