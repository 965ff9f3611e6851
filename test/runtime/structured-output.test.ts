import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { Runtime, tool, type AgentDefinition, type Run } from '../../src/index.js'
import { callTools, reply, scriptedModel } from '../../src/testing/index.js'
import { tempDirectory, type TempDirectory } from '../sqlite/temp-dir.js'

const report = z.object({ answer: z.string(), score: z.number().optional() })
/** A definition kept as a value, as an app keeps it: its schema types the runs that name it. */
const reporter = { key: 'reporter', version: 1, outputSchema: report } satisfies AgentDefinition<typeof report>
const counter = { key: 'counter', version: 1, outputSchema: z.object({ n: z.string().transform(Number) }) }
const finish = tool({ name: 'finish', input: z.object({}), stopAfterCall: true, execute: () => '{"answer":"by tool"}' })

function open(store?: ReturnType<typeof sqliteStore>) {
  return Runtime.open({
    ...(store === undefined ? {} : { store }),
    providers: {
      scripted: scriptedModel((request) => {
        const input = request.messages.findLast((message) => message.role === 'user')?.content
        if (input === 'count') return reply('{"n":"42"}')
        if (input === 'bad') return reply('{"answer": 7}')
        if (input === 'tool') return request.messages.at(-1)?.role === 'user' ? callTools({ name: 'finish', arguments: {} }) : reply('unused')
        if (input === 'text') return reply('plain words')
        return reply('{"answer":"42","score":0.5}')
      }),
    },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [reporter, counter, { key: 'talker', version: 1 }, { key: 'finisher', version: 1, outputSchema: report, tools: [finish] }],
  })
}

describe('structured output', () => {
  it('is on the run record as the validated value, beside the JSON text in content', async () => {
    const runtime = await open()
    const session = await runtime.createSession({ agent: 'reporter' })
    const run = await runtime.createRun(session.id, { input: 'go' })
    const done = await run.result()
    expect(done).toMatchObject({ status: 'completed', content: '{"answer":"42","score":0.5}', output: { answer: '42', score: 0.5 } })
    expect((await runtime.getRun(run.id)).output).toEqual({ answer: '42', score: 0.5 })
    expect((await runtime.listRuns({ sessionId: session.id }))[0]?.output).toEqual({ answer: '42', score: 0.5 })
    // The schema's output, transforms applied, not the model's raw JSON.
    expect(await (await runtime.createRun(session.id, { input: 'count', personaId: 'counter' })).result()).toMatchObject({ content: '{"n":42}', output: { n: 42 } })
    await runtime.close()
  })

  it('is null for an agent without a schema, an answer that misses it, and a run a stopAfterCall tool ended', async () => {
    const runtime = await open()
    const session = await runtime.createSession()
    expect(await (await runtime.createRun(session.id, { input: 'text', personaId: 'talker' })).result()).toMatchObject({ content: 'plain words', output: null })
    expect(await (await runtime.createRun(session.id, { input: 'bad', personaId: 'reporter' })).result()).toMatchObject({
      status: 'failed',
      error: { code: 'run.output_invalid' },
      output: null,
    })
    expect(await (await runtime.createRun(session.id, { input: 'tool', personaId: 'finisher' })).result()).toMatchObject({
      status: 'completed',
      content: '{"answer":"by tool"}',
      output: null,
    })
    await runtime.close()
  })

  it('is typed by the agent’s schema when the run names the agent by its definition or Agent', async () => {
    const runtime = await open()
    const session = await runtime.createSession()
    const byDefinition = await (await runtime.createRun(session.id, { input: 'go', personaId: reporter })).result()
    expectTypeOf(byDefinition.output).toEqualTypeOf<{ answer: string; score?: number | undefined } | null>()
    expect(byDefinition.output?.answer.toUpperCase()).toBe('42')

    const defined = runtime.defineAgent({ key: 'reporter', version: 2, outputSchema: z.object({ verdict: z.boolean() }) })
    const byAgent = await runtime.createRun(session.id, { input: 'go', personaId: defined })
    expectTypeOf(await byAgent.result()).toEqualTypeOf<Run<{ verdict: boolean }>>()
    // A run on a session of its own, named by its definition, too; the session records key@version.
    const own = await runtime.createRun({ input: 'count', personaId: counter })
    expectTypeOf((await own.result()).output).toEqualTypeOf<{ n: number } | null>()
    expect((await own.result()).output?.n).toBe(42)
    expect((await runtime.getSession(own.sessionId)).agent).toBe('counter@1')

    // Named by a string, the type is not known.
    const byKey = await (await runtime.createRun(session.id, { input: 'go', personaId: 'reporter@1' })).result()
    expectTypeOf(byKey.output).toEqualTypeOf<unknown>()
    await runtime.close()
  })

  it('refuses a definition that is not defined, defined with other content, or is not an agent', async () => {
    const runtime = await open()
    const session = await runtime.createSession()
    const cases: [unknown, string][] = [
      [{ key: 'ghost', version: 1, outputSchema: report }, 'not_found.agent'],
      [{ ...reporter, instructions: 'Other.' }, 'state.invalid'],
      [{ ...reporter, outputSchema: z.object({ other: z.string() }) }, 'state.invalid'],
      [{ key: 'reporter' }, 'validation.invalid'],
      [{ key: 5, version: 1 }, 'validation.invalid'],
      [[reporter], 'validation.invalid'],
    ]
    for (const [personaId, code] of cases) {
      await expect(runtime.createRun(session.id, { input: 'go', personaId: personaId as never })).rejects.toMatchObject({ code })
    }
    // The same content as another object is the same agent.
    expect(await (await runtime.createRun(session.id, { input: 'go', personaId: { ...reporter } })).result()).toMatchObject({ personaId: 'reporter@1' })
    expect(await runtime.listRuns()).toHaveLength(1)
    await runtime.close()
  })
})

describe('structured output on a SQLite file', () => {
  let temp: TempDirectory
  beforeEach(async () => {
    temp = await tempDirectory()
  })
  afterEach(async () => {
    await temp.cleanup()
  })

  it('is read back by the next runtime', async () => {
    const path = temp.file('output.db')
    const first = await open(sqliteStore({ path }))
    const run = await first.createRun({ input: 'go', personaId: reporter })
    await run.result()
    await first.close()
    const second = await open(sqliteStore({ path }))
    expect(await second.getRun(run.id)).toMatchObject({ status: 'completed', output: { answer: '42', score: 0.5 } })
    await second.close()
  })
})
