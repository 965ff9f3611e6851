import { z } from 'zod'
import { Runtime, tool, type AgentDefinition, type RunEvent, type RuntimeOptions } from '../src/index.js'
import { scriptedModel, type ScriptedTurn, type ScriptedModelOptions, type TurnPicker } from '../src/testing/index.js'

/** A runtime on the memory store with one scripted provider and one agent. */
export async function openRuntime(
  script: readonly ScriptedTurn[] | TurnPicker,
  options: Partial<RuntimeOptions> & { agent?: Partial<AgentDefinition>; scripted?: ScriptedModelOptions } = {},
) {
  const model = scriptedModel(script, options.scripted)
  const { agent, scripted: _scripted, ...rest } = options
  const runtime = await Runtime.open({
    providers: { scripted: model },
    routes: { default: { provider: 'scripted', model: 'test-model' } },
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
