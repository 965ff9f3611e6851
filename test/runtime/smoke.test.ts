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
    // Deltas aside (the scripted reply streams word by word), one tool turn then the answer.
    expect(events.map((event) => event.type).filter((type) => type !== 'message.delta')).toEqual([
      'run.started',
      'message.completed',
      'tool.call',
      'tool.result',
      'message.completed',
      'run.completed',
    ])
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    const result = await run.result()
    expect(result).toMatchObject({ status: 'completed', content: 'The sum is 5' })
    await runtime.close()
  })
})
