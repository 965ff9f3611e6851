import { Runtime, tool } from 'hearth-runtime'
import { callTools, reply, scriptedModel } from 'hearth-runtime/testing'
import { z } from 'zod'

const add = tool({ name: 'add', input: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b })
const runtime = await Runtime.open({
  providers: { demo: scriptedModel([callTools({ name: 'add', arguments: { a: 2, b: 3 } }), reply('2 + 3 = 5')]) },
  routes: { default: { provider: 'demo', model: 'demo' } },
  agents: [{ key: 'math', version: 1, instructions: 'Use your tools.', tools: [add] }],
})
const session = await runtime.createSession()
const run = await runtime.createRun(session.id, { input: 'What is 2 + 3?' })
for await (const event of run.events()) console.log(event.seq, event.type, JSON.stringify(event.data))
await runtime.close()
