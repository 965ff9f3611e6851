import { describe, expect, it } from 'vitest'
import { Runtime } from '../../src/index.js'
import { reply, scriptedModel } from '../../src/testing/index.js'

/** Two agents, `first` (the default: the first defined) and `routed` (route `alt`), on two routes told apart by their model. */
async function openTwoAgents() {
  return Runtime.open({
    providers: { scripted: scriptedModel((request) => reply(`${request.model}:${request.messages[0]?.content ?? ''}`)) },
    routes: { default: { provider: 'scripted', model: 'main' }, alt: { provider: 'scripted', model: 'alt' } },
    agents: [
      { key: 'first', version: 1, instructions: 'First.' },
      { key: 'routed', version: 1, instructions: 'Routed.', route: 'alt' },
    ],
  })
}

describe("'' and null mean the default", () => {
  it('for a session’s agent, on create and on update', async () => {
    const runtime = await openTwoAgents()
    for (const agent of ['', null]) {
      const session = await runtime.createSession({ agent })
      expect(session.agent).toBeNull()
      expect(await (await runtime.createRun(session.id, { input: 'x' })).result()).toMatchObject({ personaId: 'first@1', content: 'main:First.' })
    }
    for (const agent of ['', null]) {
      const session = await runtime.createSession({ agent: 'routed' })
      expect((await runtime.updateSession(session.id, { agent })).agent).toBeNull()
      expect((await runtime.getSession(session.id)).agent).toBeNull()
      expect(await (await runtime.createRun(session.id, { input: 'x' })).result()).toMatchObject({ personaId: 'first@1', routeId: 'default' })
    }
    await runtime.close()
  })

  it('for a run’s personaId (the session’s agent, else the default) and routeId (the agent’s route)', async () => {
    const runtime = await openTwoAgents()
    const session = await runtime.createSession({ agent: 'routed' })
    for (const [personaId, routeId] of [['', ''], [null, null], ['', null], [null, '']] as const) {
      const done = await (await runtime.createRun(session.id, { input: 'x', personaId, routeId })).result()
      expect(done).toMatchObject({ personaId: 'routed@1', routeId: 'alt', model: 'alt', content: 'alt:Routed.' })
    }
    const plain = await runtime.createSession()
    expect(await (await runtime.createRun(plain.id, { input: 'x', personaId: '', routeId: '' })).result()).toMatchObject({ personaId: 'first@1', routeId: 'default' })
    // A run on a session of its own: the new session has no agent of its own either.
    const own = await runtime.createRun({ input: 'x', personaId: '', routeId: null })
    expect(await own.result()).toMatchObject({ personaId: 'first@1', routeId: 'default' })
    expect((await runtime.getSession(own.sessionId)).agent).toBeNull()
    await runtime.close()
  })

  it('anything else that is not a string is validation.invalid, and a blank one names no agent', async () => {
    const runtime = await openTwoAgents()
    const session = await runtime.createSession()
    await expect(runtime.createRun(session.id, { input: 'x', personaId: 42 as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun(session.id, { input: 'x', routeId: {} as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun(session.id, { input: 'x', personaId: ' ' })).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(runtime.createRun(session.id, { input: 'x', routeId: ' ' })).rejects.toMatchObject({ code: 'not_found.model_route' })
    await expect(runtime.createSession({ agent: 5 as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.updateSession(session.id, { agent: false as never })).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.listRuns()).toEqual([])
    await runtime.close()
  })
})
