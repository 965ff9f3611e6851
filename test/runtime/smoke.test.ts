import { describe, expect, it } from 'vitest'
import { reply, callTools } from '../../src/testing/index.js'
import { addTool, collect, openRuntime } from '../helpers.js'

describe('smoke', () => {
  it('runs a chat and a tool loop', async () => {
    const { runtime } = await openRuntime([callTools({ name: 'add', arguments: { a: 2, b: 3 } }), reply('The sum is 5', { usage: { inputTokens: 10, outputTokens: 4 } })], {
      agent: { tools: [addTool] },
    })
    const session = await runtime.createSession({ userId: 'u1' })
    const run = await runtime.createRun(session.id, { input: 'add 2 and 3' })
    const events = await collect(run.events())
    console.log(events.map((e) => `${e.seq} ${e.type} ${JSON.stringify(e.data)}`).join('\n'))
    const result = await run.result()
    console.log(JSON.stringify(result, null, 1))
    expect(result.status).toBe('completed')
    await runtime.close()
  })
})
