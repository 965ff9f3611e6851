import { describe, expect, it } from 'vitest'
import { Runtime, type ModelProvider } from 'hearth-runtime'
import { reply, scriptedModel } from 'hearth-runtime/testing'

describe('the shorter first step', () => {
  it('Runtime.open({ model }) with no agents answers createRun({ input }) on a session it makes', async () => {
    const model = scriptedModel([reply('Hello there')])
    const runtime = await Runtime.open({ model })
    const run = await runtime.createRun({ input: 'Hi' })
    const done = await run.result()
    expect(done).toMatchObject({
      status: 'completed',
      content: 'Hello there',
      sessionId: run.sessionId,
      personaId: 'assistant@1',
      routeId: 'default',
      model: 'scripted',
      modelProvider: 'scripted',
    })
    const session = await runtime.getSession(run.sessionId)
    expect(session).toMatchObject({ orgId: 'default', userId: null, agent: null })
    // The built-in agent has no instructions: the model sees the user's message alone.
    expect(model.requests[0]?.messages.map((message) => message.role)).toEqual(['user'])
    expect(runtime.getAgent('assistant')).toMatchObject({ id: 'assistant@1', instructions: '', toolSpecs: [] })
    await runtime.close()
  })

  it('a run without a session gives its new session the run’s org, caller and agent', async () => {
    const runtime = await Runtime.open({
      model: scriptedModel([reply('ok')]),
      agents: [{ key: 'support', version: 1 }, { key: 'billing', version: 2 }],
    })
    const run = await runtime.createRun({ input: 'x', personaId: 'billing', orgId: 'acme', createdBy: { userId: 'u1', name: 'Ann' } })
    expect(await run.result()).toMatchObject({ status: 'completed', orgId: 'acme', personaId: 'billing@2' })
    expect(await runtime.getSession(run.sessionId, { orgId: 'acme' })).toMatchObject({ orgId: 'acme', userId: 'u1', agent: 'billing' })
    // Agents were given, so none is built in.
    expect(() => runtime.getAgent('assistant')).toThrow(expect.objectContaining({ code: 'not_found.agent' }))
    await runtime.close()
  })

  it('bad run options leave no session behind', async () => {
    const runtime = await Runtime.open({ model: scriptedModel([reply('ok')]) })
    await expect(runtime.createRun({ input: 42 } as never)).rejects.toMatchObject({ code: 'validation.invalid' })
    await expect(runtime.createRun({ input: 'x', personaId: 'ghost' })).rejects.toMatchObject({ code: 'not_found.agent' })
    await expect(runtime.createRun({ input: 'x', routeId: 'nowhere' })).rejects.toMatchObject({ code: 'not_found.model_route' })
    await expect(runtime.createRun({ input: 'x', traceId: 'not-hex' })).rejects.toMatchObject({ code: 'validation.invalid' })
    expect(await runtime.listSessions()).toEqual([])
    await runtime.close()
  })

  it('refuses a `model` that is not a provider, names no model, or comes with routes.default', async () => {
    const unnamed: ModelProvider = { stream: scriptedModel([reply('x')]).stream }
    await expect(Runtime.open({ model: 'gpt-5-mini' as never })).rejects.toThrow(TypeError)
    await expect(Runtime.open({ model: unnamed })).rejects.toThrow(/names no model/)
    const model = scriptedModel([reply('x')])
    await expect(
      Runtime.open({ model, providers: { scripted: model }, routes: { default: { provider: 'scripted', model: 'm' } } }),
    ).rejects.toThrow(new TypeError('Give `model` or `routes.default`, not both'))
    await expect(Runtime.open({ model, providers: { default: scriptedModel([reply('y')]) } })).rejects.toThrow(TypeError)
  })

  it('a route without a model uses the one its provider names', async () => {
    const runtime = await Runtime.open({
      providers: { local: scriptedModel([reply('x')], { model: 'llama-3' }) },
      routes: { default: { provider: 'local' } },
    })
    const done = await (await runtime.createRun({ input: 'x' })).result()
    expect(done).toMatchObject({ status: 'completed', model: 'llama-3' })
    await runtime.close()
    await expect(
      Runtime.open({ providers: { local: { stream: scriptedModel([]).stream } }, routes: { default: { provider: 'local' } } }),
    ).rejects.toMatchObject({ code: 'validation.invalid' })
  })

  it('checks the logger option', async () => {
    await expect(Runtime.open({ logger: console.error as never })).rejects.toThrow(
      new TypeError('Expected `logger` to be an object with `warn` and `error` functions'),
    )
  })
})
