/**
 * What a handed-off run sends as instructions: the agent it was handed to
 * leads with its own, and an agent with none sends none, while the user's
 * message always stays in the request.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, type ModelRequest } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'

function script(request: ModelRequest): ScriptedTurn {
  const last = request.messages.at(-1)
  const handedOff = request.messages.some((message) => message.role === 'tool')
  if (!handedOff && last?.role === 'user') return callTools({ name: request.tools[0]?.name ?? 'none', arguments: {} })
  return reply('done')
}

async function handOff(from: { instructions?: string }, to: { instructions?: string }): Promise<ModelRequest> {
  const model = scriptedModel(script, { mode: 'sequential' })
  const runtime = await Runtime.open({
    store: memoryStore(),
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'to', version: 1, ...to },
      { key: 'from', version: 1, ...from, handoffs: ['to@1'] },
    ],
  })
  const run = await runtime.createRun({ input: 'please help', personaId: 'from@1' })
  expect((await run.result()).content).toBe('done')
  await runtime.close()
  return model.requests.at(-1) as ModelRequest
}

describe('a handed-off run’s instructions', () => {
  it('lead with the new agent’s, and keep the user’s message, when the first agent had none', async () => {
    const request = await handOff({}, { instructions: 'You are the specialist.' })
    expect(request.messages[0]).toMatchObject({ role: 'system', content: 'You are the specialist.' })
    expect(request.messages.filter((message) => message.role === 'user').map((message) => message.content)).toEqual(['please help'])
  })

  it('are none when the new agent has none', async () => {
    const request = await handOff({ instructions: 'You triage.' }, {})
    expect(request.messages.some((message) => message.role === 'system')).toBe(false)
    expect(request.messages.filter((message) => message.role === 'user').map((message) => message.content)).toEqual(['please help'])
  })
})
