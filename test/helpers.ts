import { z } from 'zod'
import { expect } from 'vitest'
import { Runtime, tool, type AgentDefinition, type RunEvent, type RuntimeOptions, type Store } from '../src/index.js'
import { callTools, reply, scriptedModel, type ScriptedTurn, type ScriptedModelOptions, type TurnPicker } from '../src/testing/index.js'

/**
 * A runtime on the memory store with one scripted provider and one agent. Its
 * route retries failed turns as the default does, with backoff in
 * milliseconds instead of seconds, so a test of a failing turn does not wait.
 */
export async function openRuntime(
  script: readonly ScriptedTurn[] | TurnPicker,
  options: Partial<RuntimeOptions> & { agent?: Partial<AgentDefinition>; scripted?: ScriptedModelOptions } = {},
) {
  const model = scriptedModel(script, options.scripted)
  const { agent, scripted: _scripted, ...rest } = options
  const runtime = await Runtime.open({
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'test-model', retry: { baseDelayMs: 1, maxDelayMs: 4 } } },
    agents: [{ key: 'assistant', version: 1, instructions: 'Be brief.', ...agent }],
    ...rest,
  })
  return { runtime, model }
}

/** Every event of a run until its end. */
export async function collect(events: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const out: RunEvent[] = []
  for await (const event of events) out.push(event)
  return out
}

export const addTool = tool({
  name: 'add',
  description: 'Adds two numbers',
  input: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
})

export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const confirmTool = tool({ name: 'confirm', needsConfirmation: true, input: z.object({}), execute: () => 'confirmed' })

/** Runtime options whose runs answer at once, except input `wait`, whose run waits for a confirmation. */
export function keeperOptions(): Pick<RuntimeOptions, 'providers' | 'routes' | 'agents'> {
  return {
    providers: {
      scripted: scriptedModel((request) => {
        const last = request.messages.at(-1)
        if (last?.role === 'user' && last.content === 'wait') return callTools({ name: 'confirm', arguments: {} })
        return reply('done')
      }),
    },
    routes: { default: { provider: 'scripted', model: 'm' } },
    agents: [{ key: 'keeper', version: 1, tools: [confirmTool] }],
  }
}

/**
 * Finishes seven runs of a session, leaves an eighth waiting for input on it,
 * prunes in batches of three, and checks that exactly the seven went: the
 * waiting run keeps its record and events, and still finishes when answered.
 */
export async function pruneAroundAWaitingRun(runtime: Runtime, store: Store): Promise<void> {
  const session = await runtime.createSession()
  const finished = []
  for (let index = 0; index < 7; index++) finished.push(await (await runtime.createRun(session.id, { input: 'x' })).result())
  const waiting = await runtime.createRun(session.id, { input: 'wait' })
  for await (const event of waiting.events()) if (event.type === 'run.waiting_for_input') break
  const eventsBefore = await store.readEvents(waiting.id, 0, 100)
  expect(await runtime.prune({ finishedBefore: new Date(Date.now() + 1), batchSize: 3 })).toBe(7)
  for (const run of finished) {
    await expect(runtime.getRun(run.id)).rejects.toMatchObject({ code: 'not_found.run' })
    expect(await store.readEvents(run.id, 0, 10)).toEqual([])
  }
  expect((await runtime.getSession(session.id)).id).toBe(session.id)
  expect(await runtime.getRun(waiting.id)).toMatchObject({ status: 'waiting_for_input' })
  expect(await store.readEvents(waiting.id, 0, 100)).toEqual(eventsBefore)
  await runtime.submitInput(waiting.id, { approved: true })
  expect(await waiting.result()).toMatchObject({ status: 'completed', content: 'done' })
}
