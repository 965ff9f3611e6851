import { describe, expect, it } from 'vitest'
import { memoryStore, Runtime, team, type ModelRequest } from '../../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn } from '../../src/testing/index.js'
import { defaultTeamInstructions } from '../../src/teams.js'
import { collect } from '../helpers.js'

const systemOf = (request: ModelRequest): string => request.messages.find((message) => message.role === 'system')?.content ?? ''
const lastUser = (request: ModelRequest): string => [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? ''
const toolOutputs = (request: ModelRequest): string[] => request.messages.filter((message) => message.role === 'tool').map((message) => `${message.name}=${message.content}`)

const routeInstructions = defaultTeamInstructions('route', ['math@1', 'poet@1'])

function script(request: ModelRequest): ScriptedTurn {
  const system = systemOf(request)
  const last = request.messages.at(-1)
  if (system === 'Math.') return reply(`math says 4 to ${lastUser(request)}`)
  if (system === 'Poet.') return reply(`poet says roses to ${lastUser(request)}`)
  if (system === routeInstructions) return callTools({ name: 'poet', arguments: { input: lastUser(request) } })
  if (system === 'Coordinate.') return last?.role === 'user' ? callTools({ name: 'math', arguments: { input: '2+2' } }) : reply(`Team: ${toolOutputs(request).join('; ')}`)
  if (system === 'Combine.') return reply(`Combined: ${toolOutputs(request).join('; ')}`)
  return reply(`unexpected ${system}`)
}

async function open() {
  const model = scriptedModel(script)
  const runtime = await Runtime.open({
    store: memoryStore(),
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [
      { key: 'math', version: 1, instructions: 'Math.' },
      { key: 'poet', version: 1, instructions: 'Poet.' },
      team({ key: 'desk', version: 1, mode: 'route', members: ['math@1', 'poet@1'] }),
      team({ key: 'office', version: 1, mode: 'coordinate', members: ['math@1', 'poet@1'], leader: { key: 'boss', version: 1, instructions: 'Coordinate.' } }),
      team({ key: 'panel', version: 1, mode: 'broadcast', members: ['math@1', 'poet@1'], instructions: 'Combine.' }),
    ],
  })
  return { runtime, model }
}

describe('teams', () => {
  it('route: one member answers, verbatim; the session made for the run has type team', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'a poem please', personaId: 'desk@1' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'poet says roses to a poem please', personaId: 'desk@1' })
    expect((await runtime.getSession(run.sessionId)).type).toBe('team')
    const children = await runtime.listRuns({ parentRunId: run.id })
    expect(children.map((child) => [child.personaId, child.status])).toEqual([['poet@1', 'completed']])
    // One model turn of the router, no answer of its own after the member's.
    expect(done.messages.filter((message) => message.role === 'assistant')).toHaveLength(1)
    await runtime.close()
  })

  it('coordinate: the leader delegates with agent tools, then answers', async () => {
    const { runtime } = await open()
    const run = await runtime.createRun({ input: 'sum it', personaId: 'office@1' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Team: math=math says 4 to 2+2' })
    expect((await runtime.listRuns({ parentRunId: run.id })).map((child) => child.personaId)).toEqual(['math@1'])
    await runtime.close()
  })

  it('broadcast: every member runs at once as a child, then the leader combines', async () => {
    const { runtime, model } = await open()
    const run = await runtime.createRun({ input: 'what now', personaId: 'panel@1' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: 'Combined: math=math says 4 to what now; poet=poet says roses to what now' })
    const events = await collect(run.events())
    const first = events.find((event) => event.type === 'message.completed')?.data as { tool_calls: { name: string; arguments: string }[] }
    expect(first.tool_calls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['math', { input: 'what now' }],
      ['poet', { input: 'what now' }],
    ])
    // Both children started before either ended: in parallel.
    const types = events.map((event) => event.type).filter((type) => type.startsWith('subrun.'))
    expect(types).toEqual(['subrun.started', 'subrun.started', 'subrun.completed', 'subrun.completed'])
    // The model was asked three times: each member once, the leader once (the first turn is the runtime's).
    expect(model.requests.map(systemOf).sort()).toEqual(['Combine.', 'Math.', 'Poet.'])
    await runtime.close()
  })

  it('refuses a team without members, with an unknown mode, or naming an undefined member', async () => {
    expect(() => team({ key: 't', version: 1, mode: 'route', members: [] })).toThrow(/at least one/)
    expect(() => team({ key: 't', version: 1, mode: 'vote' as never, members: ['a@1'] })).toThrow(/mode/)
    await expect(
      Runtime.open({ store: memoryStore(), providers: { s: scriptedModel([]) }, routes: { default: { provider: 's' } }, agents: [team({ key: 't', version: 1, mode: 'route', members: ['ghost@1'] })] }),
    ).rejects.toMatchObject({ code: 'not_found.agent' })
  })
})
